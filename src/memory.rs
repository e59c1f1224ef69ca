//! The allocator, watched: it remembers the size of an allocation that failed. In wasm a failed
//! allocation aborts, which traps the instance without running the panic hook, so afterwards
//! this is how the engine (and an isolated worker) can tell "out of memory" from any other crash.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

static FAILED: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, noting failures.
pub struct Watched;

fn noted(ptr: *mut u8, size: usize) -> *mut u8 {
    if ptr.is_null() {
        FAILED.store(size.max(1), Ordering::Relaxed);
    }
    ptr
}

// SAFETY: every call goes straight to `System`, with the caller's own arguments.
unsafe impl GlobalAlloc for Watched {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        noted(System.alloc(layout), layout.size())
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        noted(System.alloc_zeroed(layout), layout.size())
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        noted(System.realloc(ptr, layout, new_size), new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: Watched = Watched;

/// Bytes asked for by the last allocation that failed, or 0.
pub fn failed_allocation() -> usize {
    FAILED.load(Ordering::Relaxed)
}

/// Memory taken by [`fill`], never given back (the engine it was for is replaced).
static HOARD: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());

/// Fault injection: takes all the memory there is but about `leave` bytes, so that small
/// allocations still succeed and the next large one fails for real. Returns the bytes taken.
pub fn fill(leave: usize) -> usize {
    let mut hoard = HOARD.lock().unwrap_or_else(|e| e.into_inner());
    let (mut chunk, mut taken) = (64usize << 20, 0);
    while chunk >= 4096 {
        let mut block = Vec::new();
        // try_reserve fails without aborting: these failures are expected, not the fault itself.
        if block.try_reserve_exact(chunk).is_ok() {
            taken += chunk;
            hoard.push(block);
        } else {
            chunk /= 2;
        }
    }
    let mut freed = 0;
    while freed < leave {
        let Some(block) = hoard.pop() else { break };
        freed += block.capacity();
        taken -= block.capacity();
    }
    FAILED.store(0, Ordering::Relaxed);
    taken
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_allocation_is_remembered() {
        // An impossible size: the system allocator refuses it (without aborting: we call it directly).
        let layout = Layout::from_size_align(isize::MAX as usize - 4095, 4096).unwrap();
        let ptr = unsafe { Watched.alloc(layout) };
        assert!(ptr.is_null());
        assert_eq!(failed_allocation(), isize::MAX as usize - 4095);
    }
}
