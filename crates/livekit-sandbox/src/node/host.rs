//! This process's CPU time and memory, and the machine's memory and load, from `/proc` (Linux;
//! elsewhere nothing, and the figures that need them are left out).

/// Clock ticks per second of `/proc/self/stat`'s times: `USER_HZ`, 100 on every Linux
/// architecture; Go's process collector assumes the same.
const USER_HZ: f64 = 100.0;

/// This process's CPU seconds (user and system) and resident memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ProcessUsage {
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
}

/// The machine's memory, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MemoryUsage {
    pub total: u64,
    pub used: u64,
}

#[must_use]
pub(crate) fn process_usage() -> Option<ProcessUsage> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(ProcessUsage {
        cpu_seconds: cpu_seconds(&stat)?,
        resident_bytes: kilobytes(&status, "VmRSS:")? * 1024,
    })
}

#[must_use]
pub(crate) fn memory_usage() -> Option<MemoryUsage> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let total = kilobytes(&meminfo, "MemTotal:")? * 1024;
    let available = kilobytes(&meminfo, "MemAvailable:")? * 1024;
    Some(MemoryUsage {
        total,
        used: total.saturating_sub(available),
    })
}

/// The 1, 5 and 15 minute load averages.
#[must_use]
pub(crate) fn load_average() -> Option<[f32; 3]> {
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = loadavg.split_whitespace().map(str::parse::<f32>);
    Some([
        fields.next()?.ok()?,
        fields.next()?.ok()?,
        fields.next()?.ok()?,
    ])
}

/// utime + stime of `/proc/self/stat`, in seconds. The command name in parentheses may hold
/// spaces, so fields are counted from its closing parenthesis.
fn cpu_seconds(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    // Fields 3.. of stat(5); utime and stime are fields 14 and 15.
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    #[expect(clippy::cast_precision_loss, reason = "ticks of a process's life")]
    Some((user + system) as f64 / USER_HZ)
}

/// The number of a `Key:   123 kB` line.
fn kilobytes(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "4242 (a b) c) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 50 0 0 20 0 9 0 1 2 3";
        assert_eq!(cpu_seconds(stat), Some(3.0));
        assert_eq!(
            kilobytes("Name:\tx\nVmRSS:\t   2048 kB\n", "VmRSS:"),
            Some(2048)
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_and_machine_are_read() {
        let usage = process_usage().unwrap();
        assert!(usage.resident_bytes > 1024 * 1024, "{usage:?}");
        let memory = memory_usage().unwrap();
        assert!(memory.used > 0 && memory.used < memory.total, "{memory:?}");
        assert!(load_average().is_some());
    }
}
