fn main() {
    // Declaring the app's commands generates one permission per command
    // (allow-overview, allow-sync-now, ...); capabilities/ grants only those.
    let attributes = tauri_build::Attributes::new().app_manifest(tauri_build::AppManifest::new().commands(&[
        "overview",
        "sync_now",
        "conflicts",
        "resolve_conflict",
        "resolve_conflicts_of",
        "dead_letters",
        "replay",
        "notifications",
        "mark_read",
        "connections",
        "kinds",
        "add_connection",
        "test_connection",
        "remove_connection",
        "reconcile",
        "dry_run",
        "activity",
        "connection_target",
        "set_paused",
        "edit_connection",
        "mappings",
        "set_mapping",
        "remove_mapping",
        "welcome",
        "dismiss_welcome",
        "start_at_login",
        "set_start_at_login",
        "record_history",
        "pending_writes",
    ]));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri build configuration is invalid: {e:#}");
    }
}
