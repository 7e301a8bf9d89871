//! GraphiQL reaches the binary through npm, never a CDN: `graphiql/package.json` pins the
//! release (production UMD bundles of GraphiQL and React) and `graphiql/package-lock.json`
//! the exact files and their integrity hashes. This script installs them once, from the npm
//! registry (or npm's cache), so that `src/http/graphiql.rs` can embed them.

use std::path::Path;
use std::process::Command;

/// The files the binary embeds, relative to `graphiql/`.
const ASSETS: &[&str] = &[
    "node_modules/graphiql/graphiql.min.js",
    "node_modules/graphiql/graphiql.min.css",
    "node_modules/react/umd/react.production.min.js",
    "node_modules/react-dom/umd/react-dom.production.min.js",
];

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("graphiql");
    println!("cargo:rerun-if-changed=graphiql/package-lock.json");
    for asset in ASSETS {
        println!("cargo:rerun-if-changed=graphiql/{asset}");
    }
    if ASSETS.iter().all(|a| dir.join(a).is_file()) {
        return;
    }
    let installed = Command::new("npm")
        .args([
            "ci",
            "--ignore-scripts",
            "--no-audit",
            "--no-fund",
            "--silent",
        ])
        .current_dir(&dir)
        .status();
    match installed {
        Ok(status) if status.success() => {}
        Ok(status) => panic!(
            "`npm ci` in graphiql/ failed ({status}): GraphiQL's files come from the npm registry"
        ),
        Err(err) => panic!(
            "GraphiQL's files come from npm, which could not run ({err}): install Node.js and npm \
             (Debian: apt-get install nodejs npm), then build again"
        ),
    }
    for asset in ASSETS {
        assert!(
            dir.join(asset).is_file(),
            "npm installed no graphiql/{asset}"
        );
    }
}
