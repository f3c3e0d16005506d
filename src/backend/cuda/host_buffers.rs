//! The page-locked host buffers of a chunk slot, kept by the backend from one
//! plan to the next. A slot's candidate buffer is 512 MiB at the default
//! bound, and on the H200 the compile stage grew from 0.03 to 0.4-0.6 s when
//! the two slots' page-locked buffers came in (benches/RESULTS.md): an
//! analysis that prepares a plan a day (a backtest, a margin history) would
//! pay that every day. A plan
//! takes its buffers from the [`Pool`] when some of the same sizes are there
//! (the same book) and gives them back when it is dropped.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex};

use cudarc::driver::{CudaContext, PinnedHostSlice};

use super::driver_error;
use crate::backend::BackendError;

/// Words of each buffer of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HostSizes {
    pub thresholds: usize,
    pub offsets: usize,
    pub list: usize,
    pub gaps: usize,
}

/// A slot's page-locked buffers: the thresholds the host stages for the
/// device, and the offsets, candidates and gap counters the device copies
/// back, which the host reads where the DMA left them.
pub(super) struct HostBuffers {
    pub thresholds: PinnedHostSlice<f32>,
    pub offsets: PinnedHostSlice<u32>,
    pub list: PinnedHostSlice<u32>,
    pub gaps: PinnedHostSlice<u64>,
}

impl HostBuffers {
    pub fn new(ctx: &Arc<CudaContext>, sizes: HostSizes) -> Result<Self, BackendError> {
        // SAFETY (all four): the host reads only words a device copy wrote, or
        // writes words a device copy then reads (`submit`, `collect`). The
        // buffers the host reads are cached memory (flags 0), which it reads
        // fast; the thresholds are write-combined (cudarc's default), for
        // host writes.
        Ok(Self {
            thresholds: unsafe { ctx.alloc_pinned(sizes.thresholds.max(1)) }
                .map_err(driver_error)?,
            offsets: unsafe { ctx.alloc_pinned_with_flags(sizes.offsets.max(1), 0) }
                .map_err(driver_error)?,
            list: unsafe { ctx.alloc_pinned_with_flags(sizes.list.max(1), 0) }
                .map_err(driver_error)?,
            gaps: unsafe { ctx.alloc_pinned_with_flags(sizes.gaps.max(1), 0) }
                .map_err(driver_error)?,
        })
    }

    /// What [`HostBuffers::new`] made of `sizes` has these sizes: the device
    /// copies need each buffer's exact length.
    pub fn sizes(&self) -> HostSizes {
        HostSizes {
            thresholds: self.thresholds.len(),
            offsets: self.offsets.len(),
            list: self.list.len(),
            gaps: self.gaps.len(),
        }
    }
}

/// Items kept for reuse. Cloning shares the pool.
pub(super) struct Pool<T>(Arc<Mutex<Vec<T>>>);

impl<T> Clone for Pool<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<T> Pool<T> {
    /// A kept item that `fits`, or else one `make` makes once every kept
    /// item is freed (so that the pool never holds what no plan can use);
    /// it comes back to the pool when dropped.
    pub fn take<E>(
        &self,
        fits: impl Fn(&T) -> bool,
        make: impl FnOnce() -> Result<T, E>,
    ) -> Result<Pooled<T>, E> {
        let kept = match self.0.lock() {
            Ok(mut kept) => match kept.iter().position(&fits) {
                Some(i) => Some(kept.swap_remove(i)),
                None => {
                    kept.clear();
                    None
                }
            },
            Err(_) => None,
        };
        let item = match kept {
            Some(item) => item,
            None => make()?,
        };
        Ok(Pooled {
            item: Some(item),
            pool: self.clone(),
        })
    }

    #[cfg(test)]
    fn kept(&self) -> usize {
        self.0.lock().map_or(0, |k| k.len())
    }
}

/// An item taken from a [`Pool`], back in it when dropped.
pub(super) struct Pooled<T> {
    /// `Some` until dropped.
    item: Option<T>,
    pool: Pool<T>,
}

impl<T> Deref for Pooled<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.item
            .as_ref()
            .expect("a pooled item is present until dropped")
    }
}

impl<T> DerefMut for Pooled<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.item
            .as_mut()
            .expect("a pooled item is present until dropped")
    }
}

impl<T> Drop for Pooled<T> {
    fn drop(&mut self) {
        if let (Some(item), Ok(mut kept)) = (self.item.take(), self.pool.0.lock()) {
            kept.push(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn made(n: usize) -> impl FnOnce() -> Result<Vec<u8>, ()> {
        move || Ok(vec![0; n])
    }

    #[test]
    fn an_item_of_the_same_size_is_reused_and_another_size_frees_the_kept_ones() {
        let pool = Pool::<Vec<u8>>::default();
        let same = |n: usize| move |v: &Vec<u8>| v.len() == n;
        let (mut a, b) = (
            pool.take(same(8), made(8)).unwrap(),
            pool.take(same(8), made(8)).unwrap(),
        );
        a[0] = 7;
        assert_eq!(pool.kept(), 0);
        drop((a, b));
        assert_eq!(pool.kept(), 2, "both slots' buffers come back");
        // The next plan of the same book takes them, not new ones.
        let again = pool.take(same(8), || Err(())).unwrap();
        assert_eq!(again[0], 7);
        assert_eq!(pool.kept(), 1);
        drop(again);
        // Another book: the kept buffers are freed before a new one is made.
        let other = pool.take(same(16), made(16)).unwrap();
        assert_eq!((other.len(), pool.kept()), (16, 0));
        // A failed make leaves the pool empty and says why.
        drop(other);
        assert!(pool.take(same(4), || Err(())).is_err());
        assert_eq!(pool.kept(), 0);
    }
}
