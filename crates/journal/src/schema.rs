//! The schema as code. `MIGRATIONS[i]` takes a database from version `i` to
//! `i + 1`; they only ever move forward, and a fresh file runs them all.

/// Each entry upgrades from its index to the next version.
pub const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    r#"
    CREATE TABLE connections (
        id            TEXT PRIMARY KEY,
        kind          TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('store', 'erp', 'courier')),
        name          TEXT NOT NULL,
        base_url      TEXT NOT NULL,
        settings      TEXT NOT NULL DEFAULT '{}',
        -- keychain reference only (service 'ferry', account = id); never the secret
        secret_ref    TEXT NOT NULL,
        paused_reason TEXT,
        -- when the scheduler plans to run next (written by the running engine)
        next_run_at   TEXT,
        created_at    TEXT NOT NULL
    );
    CREATE TABLE flows (
        flow      TEXT NOT NULL,
        source_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        target_id TEXT NOT NULL REFERENCES connections(id) ON DELETE CASCADE,
        enabled   INTEGER NOT NULL DEFAULT 1,
        -- per-pair settings, e.g. the warehouse → store location mapping
        settings  TEXT NOT NULL DEFAULT '{}',
        PRIMARY KEY (flow, source_id, target_id)
    );
    CREATE TABLE links (
        entity        TEXT NOT NULL,
        source_id     TEXT NOT NULL,
        source_key    TEXT NOT NULL,
        target_id     TEXT NOT NULL,
        target_key    TEXT NOT NULL,
        snapshot      TEXT,
        synced_at     TEXT NOT NULL,
        PRIMARY KEY (entity, source_id, source_key, target_id)
    );
    CREATE INDEX links_target ON links (target_id, target_key);
    CREATE TABLE cursors (
        connection_id TEXT NOT NULL,
        entity        TEXT NOT NULL,
        state         TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        PRIMARY KEY (connection_id, entity)
    );
    CREATE TABLE runs (
        id            INTEGER PRIMARY KEY,
        connection_id TEXT NOT NULL,
        flow          TEXT NOT NULL,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        outcome       TEXT CHECK (outcome IN ('ok', 'failed', 'partial')),
        fetched       INTEGER NOT NULL DEFAULT 0,
        queued        INTEGER NOT NULL DEFAULT 0,
        written       INTEGER NOT NULL DEFAULT 0,
        failed        INTEGER NOT NULL DEFAULT 0,
        message       TEXT
    );
    CREATE INDEX runs_connection ON runs (connection_id, started_at);
    CREATE TABLE events (
        id            INTEGER PRIMARY KEY,
        at            TEXT NOT NULL,
        run_id        INTEGER,
        connection_id TEXT,
        level         TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
        entity        TEXT,
        entity_key    TEXT,
        message       TEXT NOT NULL
    );
    CREATE INDEX events_connection ON events (connection_id, level, at);
    CREATE INDEX events_entity ON events (entity, entity_key);
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        idempotency_key TEXT NOT NULL UNIQUE,
        source_id       TEXT NOT NULL,
        target_id       TEXT NOT NULL,
        entity          TEXT NOT NULL,
        entity_key      TEXT NOT NULL,
        op              TEXT NOT NULL,
        payload         TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('pending', 'in_flight', 'done', 'dead', 'superseded')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        last_error      TEXT,
        remote_key      TEXT,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL
    );
    CREATE INDEX outbox_due ON outbox (target_id, state, next_attempt_at);
    CREATE INDEX outbox_source ON outbox (source_id, state);
    CREATE TABLE conflicts (
        id           INTEGER PRIMARY KEY,
        -- the pair: store (source) and ERP (target)
        source_id    TEXT NOT NULL,
        target_id    TEXT NOT NULL,
        entity       TEXT NOT NULL,
        entity_key   TEXT NOT NULL,
        field        TEXT NOT NULL,
        base_value   TEXT,
        store_value  TEXT,
        erp_value    TEXT,
        state        TEXT NOT NULL CHECK (state IN ('open', 'resolved')),
        opened_at    TEXT NOT NULL,
        resolved_at  TEXT,
        resolved_by  TEXT,
        resolution   TEXT,
        reason       TEXT
    );
    CREATE INDEX conflicts_open ON conflicts (state, entity, entity_key);
    CREATE TABLE notifications (
        id            INTEGER PRIMARY KEY,
        at            TEXT NOT NULL,
        kind          TEXT NOT NULL,
        connection_id TEXT,
        -- what it is about (dedupe key within a kind and connection)
        subject       TEXT NOT NULL,
        title         TEXT NOT NULL,
        body          TEXT NOT NULL,
        delivery      TEXT NOT NULL CHECK (delivery IN ('shown', 'grouped', 'suppressed')),
        read          INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX notifications_at ON notifications (at);
    CREATE INDEX notifications_unread ON notifications (read, at);
    CREATE TABLE http_log (
        id            INTEGER PRIMARY KEY,
        at            TEXT NOT NULL,
        connection_id TEXT NOT NULL,
        method        TEXT NOT NULL,
        url           TEXT NOT NULL,
        status        INTEGER,
        duration_ms   INTEGER NOT NULL,
        summary       TEXT
    );
    CREATE INDEX http_log_at ON http_log (connection_id, at);
    "#,
    // 1 -> 2: parcels booked with couriers, tracked until delivered.
    r#"
    CREATE TABLE parcels (
        courier_id    TEXT NOT NULL,
        -- our reference: the ERP's shipping document
        reference     TEXT NOT NULL,
        erp_id        TEXT NOT NULL,
        store_id      TEXT,
        -- the store order, when the parcel ships one
        order_ref     TEXT,
        order_label   TEXT NOT NULL,
        -- the courier's shipment as JSON (carrier, tracking number, label)
        shipment      TEXT NOT NULL,
        status        TEXT NOT NULL,
        last_event_at TEXT,
        last_message  TEXT,
        booked_at     TEXT NOT NULL,
        checked_at    TEXT,
        PRIMARY KEY (courier_id, reference)
    );
    CREATE INDEX parcels_open ON parcels (courier_id, status);
    "#,
    // 2 -> 3: mappings people set, and values met with none; links by target key.
    r#"
    CREATE TABLE mappings (
        -- 'sku' (store SKU -> ERP item code), 'warehouse' (ERP warehouse -> store location)
        kind       TEXT NOT NULL,
        source     TEXT NOT NULL,
        target     TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, source)
    );
    CREATE TABLE unmapped (
        kind          TEXT NOT NULL,
        value         TEXT NOT NULL,
        connection_id TEXT,
        detail        TEXT NOT NULL,
        first_seen    TEXT NOT NULL,
        last_seen     TEXT NOT NULL,
        seen          INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (kind, value)
    );
    -- a record's history: from an ERP key back to the store's
    CREATE INDEX links_entity_target ON links (entity, target_key);
    -- the writes still waiting, oldest first (Failed writes lists them)
    CREATE INDEX outbox_state ON outbox (state, id);
    "#,
    // 3 -> 4: lookups that must not scan the outbox of a 100,000-order shop:
    // a record's writes by its key, and the due writes in the order queued.
    r#"
    CREATE INDEX outbox_entity_key ON outbox (entity, entity_key, target_id);
    CREATE INDEX outbox_queue ON outbox (target_id, entity, state, id);
    "#,
    // 4 -> 5: the Activity search finds text anywhere in a record's key or
    // message by index (trigrams), not by reading every line. Lines are
    // indexed when a search needs them (`search_progress`), not as they are
    // written, so syncing pays nothing for it.
    r#"
    CREATE VIRTUAL TABLE events_search USING fts5(
        entity_key, message, content = 'events', content_rowid = 'id', tokenize = 'trigram'
    );
    CREATE TABLE search_progress (indexed_to INTEGER NOT NULL);
    INSERT INTO search_progress (indexed_to) VALUES (0);
    "#,
];

/// The version a fully migrated journal has.
pub fn version() -> i64 {
    MIGRATIONS.len() as i64
}
