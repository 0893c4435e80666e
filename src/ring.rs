//! The bounded tail buffer: keeps the last bytes of the child's output, whatever it prints.
//!
//! Memory is the capacity and nothing more: the buffer fills up to its capacity, then
//! overwrites its oldest bytes in place. The capacity can grow while the run is going on
//! (the start ping's answer may announce a larger `Ping-Body-Limit` than the default the
//! run began with); it never shrinks, since the body builder cuts to the final limit.

/// A ring buffer holding the last `capacity` bytes written to it.
#[derive(Debug, Default)]
pub struct Ring {
    /// Empty until the first write, then `capacity` bytes (allocated zeroed, so pages the
    /// output never reaches cost no memory).
    buf: Vec<u8>,
    capacity: usize,
    /// How many bytes are kept: grows to the capacity, then stays there.
    len: usize,
    /// Where the next byte goes; once the buffer is full the oldest byte sits here too.
    /// Equal to `len` while the buffer is not full yet.
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

    /// Room for the next bytes, at most `max` and never across the end of the buffer:
    /// read into it, then [`commit`](Self::commit) what was read. This is how the child's
    /// output goes straight into the ring, with no other buffer and no copy. Empty when
    /// the capacity is 0.
    pub fn spare(&mut self, max: usize) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf = vec![0; self.capacity];
        }
        let end = self.capacity.min(self.pos.saturating_add(max));
        &mut self.buf[self.pos..end]
    }

    /// Keeps the first `n` bytes of the room [`spare`](Self::spare) gave (with a capacity
    /// of 0, only counts them).
    pub fn commit(&mut self, n: usize) {
        self.total += n as u64;
        if self.capacity == 0 {
            return;
        }
        debug_assert!(
            self.pos + n <= self.buf.len(),
            "committed more than the room"
        );
        self.pos += n;
        self.len = self.capacity.min(self.len + n);
        if self.pos == self.capacity {
            self.pos = 0;
        }
    }

    /// Appends `data`, dropping the oldest bytes beyond the capacity.
    pub fn write(&mut self, mut data: &[u8]) {
        let cap = self.capacity;
        if cap == 0 || data.len() >= cap {
            // Only the last `cap` bytes can stay.
            self.total += data.len().saturating_sub(cap) as u64;
            data = &data[data.len().saturating_sub(cap)..];
            self.pos = 0;
            self.len = 0;
        }
        while !data.is_empty() {
            let room = self.spare(data.len());
            let n = room.len();
            room.copy_from_slice(&data[..n]);
            self.commit(n);
            data = &data[n..];
        }
    }

    /// Raises the capacity to `capacity` (never lowers it). Bytes already dropped stay
    /// dropped; later output fills the larger buffer.
    pub fn grow(&mut self, capacity: usize) {
        if capacity <= self.capacity {
            return;
        }
        self.make_contiguous();
        if !self.buf.is_empty() {
            self.buf.resize(capacity, 0);
        }
        self.capacity = capacity;
        self.pos = self.len;
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
        if self.len == self.capacity && self.pos != 0 {
            self.buf.rotate_left(self.pos);
            self.pos = 0;
        }
        &self.buf[..self.len]
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
        /// by `write` or through `spare` and `commit`, also across growth.
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
                if i % 2 == 0 {
                    ring.write(w);
                } else {
                    // The way the output is read: straight into the room the ring gives.
                    let mut rest: &[u8] = w;
                    while !rest.is_empty() && ring.capacity() > 0 {
                        let room = ring.spare(rest.len());
                        let n = room.len().min(rest.len());
                        room[..n].copy_from_slice(&rest[..n]);
                        ring.commit(n);
                        rest = &rest[n..];
                    }
                    if ring.capacity() == 0 {
                        ring.commit(rest.len());
                    }
                }
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
