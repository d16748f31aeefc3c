//! Peak resident memory per phase, from Linux's `/proc/self/status` (`VmHWM`). Writing `5` to
//! `/proc/self/clear_refs` resets the high-water mark, so each phase reports its own peak.
//! On systems without these files the figures are simply absent.

/// Resets the peak-RSS mark so the next [`peak_rss_bytes`] covers only what follows.
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident set size since start or the last [`reset_peak`], in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_grows_with_a_touched_allocation() {
        super::reset_peak();
        let before = super::peak_rss_bytes().expect("Linux reports VmHWM");
        let block = vec![1u8; 64 << 20];
        let after = super::peak_rss_bytes().unwrap();
        assert!(after >= before + (60 << 20), "{before} -> {after}");
        drop(block);
    }
}
