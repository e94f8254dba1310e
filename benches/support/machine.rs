//! The machine a bench ran on, printed above its tables so that numbers from different
//! machines are not compared as if they were alike, and a bench's `--seconds` argument.
//! Included by the benches with `#[path]`.

#![allow(
    dead_code,
    reason = "each bench that includes the machine uses only a part of it"
)]

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

/// The whole number after `--seconds` among a bench's arguments, or `default`.
///
/// # Panics
/// The value is not a whole number: the bench cannot run as asked.
pub fn seconds_arg(args: &[String], default: u64) -> u64 {
    args.iter()
        .position(|arg| arg == "--seconds")
        .and_then(|at| args.get(at + 1))
        .map_or(default, |value| {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("--seconds takes a whole number, not {value:?}"))
        })
}
