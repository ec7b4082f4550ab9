//! Read-modify-write of objects kreg shares with others, where server-side apply cannot keep
//! the others' part: a ServiceAccount's `imagePullSecrets` is an atomic list on the API
//! servers kreg supports, so applying kreg's entry would replace everyone else's.

use std::fmt::Debug;

use anyhow::Result;
use kube::api::{Api, PostParams};
use kube::{Resource, ResourceExt};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{api_error, Cluster};
use crate::plan::names;

impl Cluster {
    /// Reads `name`, lets `change` edit it, and writes it back guarded by its resourceVersion,
    /// retrying when someone else wrote in between. `None`: absent; `Some(false)`: `change`
    /// found nothing to do (no write).
    pub async fn edit<K>(
        &self,
        api: &Api<K>,
        name: &str,
        change: impl Fn(&mut K) -> bool,
    ) -> Result<Option<bool>>
    where
        K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Debug,
    {
        let mut attempt = 0;
        loop {
            let Some(mut obj) = self.get(api, name).await? else {
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
