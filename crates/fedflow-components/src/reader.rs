//! `Reader`: FATE Flow's component that turns a stored table into the job's
//! first dataset. Parameter: `table: {name, namespace}`.

use crate::{
    parse_params, Component, ComponentError, ComponentOutput, Dataset, Schema, TaskContext,
};
use fedflow_computing::{Session, Table};
use fedflow_storage::{StorageContext, StoreAddress, TableMeta};
use serde::Deserialize;
use std::sync::Arc;

/// Reader's parameters.
#[derive(Debug, Deserialize)]
pub struct ReaderParam {
    /// The table to read.
    pub table: TableRef,
}

/// A stored table's name.
#[derive(Debug, Deserialize)]
pub struct TableRef {
    /// Table name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
}

/// The component.
pub struct Reader;

/// Loads a stored table into `session`: a path-engine table
/// ([`StoreAddress::Path`]) is read by the engine itself when it can
/// ([`Session::load_path`]: Spark executors read the URI), else its blocks
/// are read through storage (which reads `file://` only) and loaded. The row
/// and partition counts are checked against the meta row.
pub fn load_table(
    session: &dyn Session,
    storage: &StorageContext,
    meta: &TableMeta,
) -> Result<Arc<dyn Table>, ComponentError> {
    if let StoreAddress::Path { uri } = &meta.address {
        if let Some(table) = session.load_path(uri, meta.partitions as usize)? {
            let rows = table.count()?;
            if rows != meta.count || table.partitions() != meta.partitions as usize {
                return Err(ComponentError::Input(format!(
                    "table {}.{} at {uri}: meta says {} partitions and {} rows, the files hold {} partitions and {rows} rows",
                    meta.namespace, meta.name, meta.partitions, meta.count, table.partitions()
                )));
            }
            return Ok(table);
        }
    }
    let blocks = fedflow_storage::upload::read_checked(meta, storage.storage.as_ref())?;
    Ok(session.load_blocks(blocks)?)
}

impl Component for Reader {
    fn module(&self) -> &'static str {
        "Reader"
    }

    fn needs_data_input(&self) -> bool {
        false
    }

    fn check_params(
        &self,
        component: &str,
        _role: fedflow_core::Role,
        params: &serde_json::Value,
    ) -> Result<(), ComponentError> {
        // A role without a table (the arbiter) reads nothing; see `run`.
        if params.get("table").is_none() {
            return Ok(());
        }
        parse_params::<ReaderParam>(component, params).map(|_| ())
    }

    fn run(&self, ctx: &TaskContext) -> Result<ComponentOutput, ComponentError> {
        // FATE runs Reader on every role; a role without a table (the arbiter) reads nothing.
        if ctx.params.get("table").is_none() {
            return Ok(ComponentOutput::default());
        }
        let p: ReaderParam = parse_params(&ctx.component_name, &ctx.params)?;
        let storage = ctx
            .storage
            .as_ref()
            .ok_or_else(|| ComponentError::Input("Reader needs table storage".into()))?;
        let meta = fedflow_storage::require_table(
            storage.meta.as_ref(),
            &p.table.namespace,
            &p.table.name,
        )?;
        let table = load_table(ctx.computing.as_ref(), storage, &meta)?;
        let header = if meta.schema.header.is_empty() {
            Vec::new()
        } else {
            meta.schema
                .header
                .split(meta.id_delimiter.as_str())
                .map(str::to_string)
                .collect()
        };
        let mut extra = serde_json::Map::new();
        extra.insert("id_delimiter".into(), meta.id_delimiter.clone().into());
        let schema = Schema {
            sid: meta.schema.sid.clone(),
            header,
            label_name: None,
            extra,
        };
        tracing::info!(
            "reader: {}.{}: {} rows, {} partitions",
            meta.namespace,
            meta.name,
            meta.count,
            meta.partitions
        );
        Ok(ComponentOutput {
            summary: serde_json::json!({"table": format!("{}.{}", meta.namespace, meta.name), "count": meta.count}),
            data: vec![Dataset { table, schema }],
            model: None,
        })
    }
}
