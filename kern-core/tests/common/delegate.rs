//! The `RunStore` methods a test's wrapping store passes through unchanged.

/// Inside `impl RunStore for Wrapper`, where `Wrapper` has an `inner` store: the methods that
/// no test wraps (listing, deleting, purging, claiming), each passed to `self.inner`. The
/// wrapper writes `load`, `create` and `update` itself.
macro_rules! delegate_to_inner {
    () => {
        fn session_runs<'a>(
            &'a self,
            session_id: &'a str,
        ) -> ::futures::future::BoxFuture<'a, ::kern_core::Result<Vec<::kern_core::RunOutput>>> {
            self.inner.session_runs(session_id)
        }
        fn user_runs<'a>(
            &'a self,
            user_id: &'a str,
        ) -> ::futures::future::BoxFuture<'a, ::kern_core::Result<Vec<::kern_core::RunOutput>>> {
            self.inner.user_runs(user_id)
        }
        fn list_runs<'a>(
            &'a self,
            filter: &'a ::kern_core::store::RunFilter,
            page: &'a ::kern_core::store::PageRequest,
        ) -> ::futures::future::BoxFuture<'a, ::kern_core::Result<::kern_core::store::RunPage>> {
            self.inner.list_runs(filter, page)
        }
        fn delete<'a>(
            &'a self,
            run_id: &'a str,
        ) -> ::futures::future::BoxFuture<'a, ::kern_core::Result<bool>> {
            self.inner.delete(run_id)
        }
        fn purge<'a>(
            &'a self,
            policy: &'a ::kern_core::store::Retention,
        ) -> ::futures::future::BoxFuture<'a, ::kern_core::Result<u64>> {
            self.inner.purge(policy)
        }
        fn claim<'a>(
            &'a self,
            request: &'a ::kern_core::store::ClaimRequest,
        ) -> ::futures::future::BoxFuture<'a, ::kern_core::Result<Option<::kern_core::StoredRun>>> {
            self.inner.claim(request)
        }
    };
}
