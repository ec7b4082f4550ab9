//! Read-modify-write of objects kreg shares with others, where server-side apply cannot keep
//! the others' part: a ServiceAccount's `imagePullSecrets` is an atomic list on the API
//! servers kreg supports, so applying kreg's entry would replace everyone else's.

use anyhow::Result;
use kube::api::PostParams;
use kube::ResourceExt;

use super::{api_error, Cluster, Object};
use crate::plan::names;

impl Cluster {
    /// Reads `name` in `namespace`, lets `change` edit it, and writes it back guarded by its
    /// resourceVersion, retrying when someone else wrote in between. `None`: absent;
    /// `Some(false)`: `change` found nothing to do (no write).
    pub async fn edit<K: Object>(
        &self,
        namespace: &str,
        name: &str,
        change: impl Fn(&mut K) -> bool,
    ) -> Result<Option<bool>> {
        let api = self.api_in::<K>(namespace);
        let mut attempt = 0;
        loop {
            let Some(mut obj) = self.get_in::<K>(namespace, name).await? else {
                return Ok(None);
            };
            if !change(&mut obj) {
                return Ok(Some(false));
            }
            let pp = PostParams {
                field_manager: Some(names::FIELD_MANAGER.into()),
                ..Default::default()
            };
            match api.replace(&obj.name_any(), &pp, &obj).await {
                Ok(_) => return Ok(Some(true)),
                Err(kube::Error::Api(s)) if s.code == 409 && attempt < 5 => attempt += 1,
                Err(e) => return Err(api_error(e, &format!("updating {} {name}", K::kind(&())))),
            }
        }
    }
}
