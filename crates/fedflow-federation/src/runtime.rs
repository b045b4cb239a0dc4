//! The private async runtime of the network engines: the `Federation` trait is
//! synchronous, the clients (lapin, tonic) are async.

use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::{Builder, Runtime};

static RT: OnceLock<Runtime> = OnceLock::new();

/// The process-wide runtime (two worker threads; servers and connections live on it).
pub(crate) fn rt() -> &'static Runtime {
    RT.get_or_init(|| {
        Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("fedflow-federation")
            .enable_all()
            .build()
            .expect("starting the federation's async runtime")
    })
}

/// Runs a future to completion from synchronous code (also when called from
/// inside another runtime: then on a scoped helper thread).
pub(crate) fn block_on<F>(f: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|s| {
            s.spawn(|| rt().block_on(f))
                .join()
                .expect("federation call panicked")
        })
    } else {
        rt().block_on(f)
    }
}
