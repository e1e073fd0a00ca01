//! `kapstone clinic add`: another clinic (site) of the installation.

use super::{Open, ok, open};
use crate::config::Config;
use anyhow::Result;
use std::process::ExitCode;

#[derive(clap::Subcommand)]
pub enum Command {
    /// Add a clinic (site).
    Add {
        #[arg(long)]
        name: String,
        /// Short name used in URLs and on the command line.
        #[arg(long)]
        slug: String,
    },
}

pub async fn run(config: &Config, command: Command) -> Result<ExitCode> {
    let Command::Add { name, slug } = command;
    let store = open(config, Open::Existing).await?;
    let c = store.create_clinic(name.trim(), slug.trim()).await?;
    println!("Clinic \"{}\" added (short name {}).", c.name, c.slug);
    crate::checkpoint::after_command(config, &store).await;
    ok()
}
