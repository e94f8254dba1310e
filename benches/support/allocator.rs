//! The allocator of the lktop binary (`src/main.rs`), so that benches which run lktop's code in
//! their own process measure it as it runs in lktop's.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
