//! Randomness for run ids, retry jitter and `--jitter`: the system's source, with the
//! clock as a fallback where there is none (a very bare container), which still tells
//! concurrent runs apart.

/// Fills `buf` with random bytes.
pub fn fill(buf: &mut [u8]) {
    if getrandom::getrandom(buf).is_ok() {
        return;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let seed = (nanos ^ (u128::from(std::process::id()) << 64)).to_le_bytes();
    for (i, b) in buf.iter_mut().enumerate() {
        *b = seed[i % seed.len()].wrapping_add(u8::try_from(i / seed.len() % 256).unwrap_or(0));
    }
}

/// A random number in [0, 1].
pub fn fraction() -> f64 {
    let mut b = [0u8; 4];
    fill(&mut b);
    f64::from(u32::from_le_bytes(b)) / f64::from(u32::MAX)
}
