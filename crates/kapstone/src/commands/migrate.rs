//! `kapstone migrate`: creates the database if needed and brings its schema up to date.

use super::{Open, ok, open};
use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;

pub async fn run(config: &Config) -> Result<ExitCode> {
    let store = open(config, Open::CreateAndMigrate).await?;
    println!("Database is up to date ({}).", store.db.backend());
    crate::checkpoint::after_command(config, &store).await;
    ok()
}
