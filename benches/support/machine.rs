//! The machine a bench ran on, printed above its tables so that numbers from different
//! machines are not compared as if they were alike. Included by the benches with `#[path]`.

use std::thread;

/// The CPU's model, its cores and the load average when the bench started.
pub fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "machine: {cores} cores, {cpu}; load average at start {}",
        load.join(" ")
    )
}
