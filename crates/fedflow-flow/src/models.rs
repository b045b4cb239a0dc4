//! The model store: models keyed by FATE's model_id
//! (`arbiter-10000#guest-9999#host-10000#model`) and model_version (the
//! training job's id), one file per (party, component).

use fedflow_components::ModelData;
use fedflow_core::Party;
use std::path::{Path, PathBuf};

/// Models under `<data dir>/models/`.
#[derive(Debug, Clone)]
pub struct ModelStore {
    root: PathBuf,
}

/// A model could not be stored or read.
#[derive(Debug, thiserror::Error)]
#[error("model store {path}: {message}")]
pub struct ModelStoreError {
    /// The file.
    pub path: String,
    /// What went wrong.
    pub message: String,
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == '\0' {
                '_'
            } else {
                c
            }
        })
        .collect()
}

impl ModelStore {
    /// The store in a data directory.
    pub fn new(data_dir: &Path) -> Self {
        ModelStore {
            root: data_dir.join("models"),
        }
    }

    fn path(&self, model_id: &str, version: &str, party: Party, component: &str) -> PathBuf {
        self.root
            .join(clean(model_id))
            .join(clean(version))
            .join(format!("{}-{}", party.role, party.party_id))
            .join(format!("{}.json", clean(component)))
    }

    /// Saves one component's model of one party.
    pub fn save(
        &self,
        model_id: &str,
        version: &str,
        party: Party,
        component: &str,
        model: &ModelData,
    ) -> Result<(), ModelStoreError> {
        let path = self.path(model_id, version, party, component);
        let e = |m: String| ModelStoreError {
            path: path.display().to_string(),
            message: m,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|x| e(x.to_string()))?;
        }
        let tmp = path.with_extension("json.tmp");
        std::fs::write(
            &tmp,
            serde_json::to_vec_pretty(model).map_err(|x| e(x.to_string()))?,
        )
        .map_err(|x| e(x.to_string()))?;
        std::fs::rename(&tmp, &path).map_err(|x| e(x.to_string()))
    }

    /// Loads one component's model of one party, if stored.
    pub fn load(
        &self,
        model_id: &str,
        version: &str,
        party: Party,
        component: &str,
    ) -> Result<Option<ModelData>, ModelStoreError> {
        let path = self.path(model_id, version, party, component);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|x| ModelStoreError {
                    path: path.display().to_string(),
                    message: x.to_string(),
                }),
            Err(x) if x.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(x) => Err(ModelStoreError {
                path: path.display().to_string(),
                message: x.to_string(),
            }),
        }
    }

    /// True when any model of this id and version exists.
    pub fn exists(&self, model_id: &str, version: &str) -> bool {
        self.root
            .join(clean(model_id))
            .join(clean(version))
            .is_dir()
    }
}
