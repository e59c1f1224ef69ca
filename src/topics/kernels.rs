//! CPU kernels several topics share: the workspace crate `kernels/` (its own crate so the wasm
//! builds compile it for speed while the rest stays optimized for size).

pub use kernels::*;
