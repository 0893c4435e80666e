//! The bounded tail buffer: keeps the last bytes of the child's output, whatever it prints.
//!
//! Memory is the capacity and nothing more: the buffer fills up to its capacity, then
//! overwrites its oldest bytes in place. The capacity can grow while the run is going on
//! (the start ping's answer may announce a larger `Ping-Body-Limit` than the default the
//! run began with); it never shrinks, since the body builder cuts to the final limit.

/// A ring buffer holding the last `capacity` bytes written to it.
#[derive(Debug, Default)]
pub struct Ring {
    buf: Vec<u8>,
    capacity: usize,
    /// Where the next byte goes once the buffer is full; the oldest byte sits here too.
    /// Always 0 while the buffer is not full yet.
    pos: usize,
    total: u64,
}

impl Ring {
    /// An empty buffer that will keep the last `capacity` bytes. Allocates lazily.
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            ..Self::default()
        }
    }

    /// Appends `data`, dropping the oldest bytes beyond the capacity.
    pub fn write(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        let cap = self.capacity;
        if cap == 0 || data.is_empty() {
            return;
        }
        if data.len() >= cap {
            self.buf.clear();
            self.buf.extend_from_slice(&data[data.len() - cap..]);
            self.pos = 0;
            return;
        }
        if self.buf.len() < cap {
            if self.buf.capacity() < cap {
                self.buf.reserve_exact(cap - self.buf.len());
            }
            let n = data.len().min(cap - self.buf.len());
            self.buf.extend_from_slice(&data[..n]);
            data = &data[n..];
            if data.is_empty() {
                return;
            }
        }
        // Full: overwrite the oldest bytes, wrapping around the end at most once
        // (data is shorter than the capacity here).
        let first = data.len().min(cap - self.pos);
        self.buf[self.pos..self.pos + first].copy_from_slice(&data[..first]);
        let rest = &data[first..];
        self.buf[..rest.len()].copy_from_slice(rest);
        self.pos = (self.pos + data.len()) % cap;
    }

    /// Raises the capacity to `capacity` (never lowers it). Bytes already dropped stay
    /// dropped; later output fills the larger buffer.
    pub fn grow(&mut self, capacity: usize) {
        if capacity <= self.capacity {
            return;
        }
        self.buf.rotate_left(self.pos);
        self.pos = 0;
        self.capacity = capacity;
    }

    /// The current capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many bytes were written in all, kept or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The kept bytes, oldest first, as one slice (rotates the buffer in place).
    pub fn make_contiguous(&mut self) -> &[u8] {
        self.buf.rotate_left(self.pos);
        self.pos = 0;
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    /// Checks the ring against the obvious model: the last `cap` bytes of everything written.
    fn check(cap: usize, writes: &[&[u8]]) {
        let mut ring = Ring::new(cap);
        let mut all = Vec::new();
        for w in writes {
            ring.write(w);
            all.extend_from_slice(w);
            let want = &all[all.len().saturating_sub(cap)..];
            assert_eq!(ring.total(), all.len() as u64);
            assert_eq!(ring.make_contiguous(), want, "cap {cap}, writes {writes:?}");
        }
    }

    #[test]
    fn keeps_the_last_bytes_for_every_write_pattern() {
        let data: Vec<u8> = (0..=255).collect();
        for cap in [0, 1, 2, 3, 7, 16, 100] {
            for size in [1, 2, 3, 5, 7, 16, 99, 100, 101, 250] {
                let writes: Vec<&[u8]> = data.chunks(size).collect();
                check(cap, &writes);
            }
        }
    }

    #[test]
    fn wraps_without_making_contiguous_between_writes() {
        let mut ring = Ring::new(4);
        for b in b"abcdefghij" {
            ring.write(&[*b]);
        }
        assert_eq!(ring.make_contiguous(), b"ghij");
        assert_eq!(ring.total(), 10);
    }

    proptest::proptest! {
        /// Against the model: the kept bytes are always the last `capacity` bytes written,
        /// also across growth.
        #[test]
        fn kept_bytes_are_the_last_bytes_written(
            capacity in 0usize..300,
            writes in proptest::collection::vec(proptest::collection::vec(proptest::num::u8::ANY, 0..400), 0..20),
            grow_at in 0usize..20,
            grow_by in 0usize..200,
        ) {
            let mut ring = Ring::new(capacity);
            let mut all: Vec<u8> = Vec::new();
            let mut cap = capacity;
            let mut at_grow = 0;
            for (i, w) in writes.iter().enumerate() {
                if i == grow_at {
                    ring.grow(cap + grow_by);
                    cap += grow_by;
                    at_grow = all.len();
                }
                ring.write(w);
                all.extend_from_slice(w);
            }
            // Bytes dropped before growing stay dropped: the model keeps the last `cap`
            // bytes, but none older than what the old capacity held at the growth.
            let oldest = all.len().saturating_sub(cap).max(if grow_at < writes.len() { at_grow.saturating_sub(capacity) } else { 0 });
            let want = &all[oldest.min(all.len())..];
            proptest::prop_assert_eq!(ring.total(), all.len() as u64);
            proptest::prop_assert_eq!(ring.make_contiguous(), want);
        }
    }

    #[test]
    fn growing_keeps_what_was_kept_and_fills_the_new_room() {
        let mut ring = Ring::new(4);
        ring.write(b"abcdef");
        ring.grow(6);
        assert_eq!(ring.make_contiguous(), b"cdef");
        ring.write(b"gh");
        assert_eq!(ring.make_contiguous(), b"cdefgh");
        ring.write(b"i");
        assert_eq!(ring.make_contiguous(), b"defghi");
        ring.grow(2);
        assert_eq!(ring.capacity(), 6, "grow never shrinks");
    }
}
