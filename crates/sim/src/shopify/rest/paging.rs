//! Cursor pages of the REST emulator: the `page_info` token (the first
//! request's filters and the row a page starts after or ends before) and the
//! `Link` header, as shopify.dev/docs/api/usage/pagination-rest describes.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Direction {
    Next,
    Previous,
}

/// What a `page_info` carries: the first request's filters and the row the
/// page starts after (`next`) or ends before (`previous`).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct PageInfo {
    pub(super) resource: String,
    pub(super) filters: Params,
    pub(super) direction: Direction,
    pub(super) last_value: i64,
    pub(super) last_id: u64,
}

impl PageInfo {
    pub(super) fn encode(&self) -> String {
        serde_json::to_vec(self).unwrap_or_default().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(super) fn decode(text: &str) -> Option<Self> {
        if !text.len().is_multiple_of(2) {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..text.len())
            .step_by(2)
            .map(|i| text.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
            .collect();
        serde_json::from_slice(&bytes?).ok()
    }
}

/// A list request's page: which rows (by filters and cursor), how many,
/// which fields.
pub(super) struct Paging {
    pub(super) filters: Params,
    pub(super) cursor: Option<(Direction, Key)>,
    pub(super) limit: usize,
    pub(super) fields: Option<String>,
}

impl Paging {
    /// `limit` (1 to 250, 50 by default), `fields`, and either `page_info`
    /// (with nothing else) or the filters of a first page.
    pub(super) fn parse(params: &[(String, String)], resource: &str) -> Result<Self, Response> {
        let mut checks = Checks::new(params);
        let limit = match value(params, "limit").map(|v| v.trim().parse::<usize>()) {
            None => DEFAULT_LIMIT,
            Some(Ok(n @ 1..=MAX_LIMIT)) => n,
            Some(_) => {
                checks.fail("limit", format!("must be a whole number from 1 to {MAX_LIMIT}"));
                DEFAULT_LIMIT
            }
        };
        let fields = value(params, "fields").filter(|f| !f.trim().is_empty()).map(str::to_owned);
        let mut paging = Self { filters: Vec::new(), cursor: None, limit, fields };
        match value(params, "page_info") {
            None => paging.filters = params.iter().filter(|(k, _)| k != "limit" && k != "fields").cloned().collect(),
            Some(info) => {
                for (k, _) in params.iter().filter(|(k, _)| !matches!(k.as_str(), "limit" | "fields" | "page_info")) {
                    checks.fail(
                        k,
                        format!("{k} cannot be passed when page_info is present. See {PAGINATION_DOCS} for more information."),
                    );
                }
                match PageInfo::decode(info).filter(|p| p.resource == resource) {
                    Some(p) => {
                        paging.filters = p.filters;
                        paging.cursor = Some((p.direction, (p.last_value, p.last_id)));
                    }
                    None => checks.fail("page_info", "Invalid value."),
                }
            }
        }
        checks.done()?;
        Ok(paging)
    }

    /// The page's bounds in `keys` (the filtered rows' keys in listing
    /// order; `desc` when that order is descending).
    pub(super) fn window(&self, keys: &[Key], desc: bool) -> (usize, usize) {
        let after = |k: &Key, a: &Key| if desc { k < a } else { k > a };
        match self.cursor {
            None => (0, keys.len().min(self.limit)),
            Some((Direction::Next, a)) => {
                let start = keys.partition_point(|k| !after(k, &a));
                (start, (start + self.limit).min(keys.len()))
            }
            Some((Direction::Previous, a)) => {
                let end = keys.partition_point(|k| after(&a, k));
                (end.saturating_sub(self.limit), end)
            }
        }
    }

    /// The `Link` header for the page `start..end` of `keys`: `previous`
    /// unless it is the first page, `next` unless it is the last.
    pub(super) fn link(
        &self,
        here: &str,
        resource: &str,
        keys: &[Key],
        (start, end): (usize, usize),
    ) -> Option<HeaderValue> {
        let url = |direction, (last_value, last_id): Key| {
            let info = PageInfo {
                resource: resource.to_owned(),
                filters: self.filters.clone(),
                direction,
                last_value,
                last_id,
            };
            let fields = self.fields.as_deref().map(|f| format!("&fields={}", escape(f))).unwrap_or_default();
            format!("<{here}?page_info={}&limit={}{fields}>", info.encode(), self.limit)
        };
        let mut links = Vec::new();
        if let Some(first) = keys.get(start).filter(|_| start > 0 && start < end) {
            links.push(format!("{}; rel=\"previous\"", url(Direction::Previous, *first)));
        }
        if let Some(last) = keys.get(end.wrapping_sub(1)).filter(|_| end < keys.len() && start < end) {
            links.push(format!("{}; rel=\"next\"", url(Direction::Next, *last)));
        }
        if links.is_empty() {
            return None;
        }
        HeaderValue::from_str(&links.join(", ")).ok()
    }

    /// One page of `rows` (filtered, in listing order) under `root`, with
    /// its `Link` header.
    pub(super) fn answer<T>(
        &self,
        here: &str,
        root: &str,
        rows: &[(Key, T)],
        desc: bool,
        show: impl Fn(&T) -> Value,
    ) -> Response {
        let keys: Vec<Key> = rows.iter().map(|(k, _)| *k).collect();
        let (start, end) = self.window(&keys, desc);
        let items: Vec<Value> =
            rows[start..end].iter().map(|(_, row)| pick_fields(show(row), self.fields.as_deref())).collect();
        let mut response = ok(&json!({ root: items }));
        if let Some(link) = self.link(here, root, &keys, (start, end)) {
            response.headers_mut().insert(header::LINK, link);
        }
        response
    }
}

/// Percent-encodes all but unreserved characters and commas.
pub(super) fn escape(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b',' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SortField {
    Id,
    CreatedAt,
    UpdatedAt,
    ProcessedAt,
}

/// The `order` parameter: a field and `asc` (the default) or `desc`.
pub(super) fn parse_sort(text: &str) -> Option<(SortField, bool)> {
    let mut words = text.split_whitespace();
    let field = match words.next()? {
        "id" => SortField::Id,
        "created_at" => SortField::CreatedAt,
        "updated_at" => SortField::UpdatedAt,
        "processed_at" => SortField::ProcessedAt,
        _ => return None,
    };
    let desc = match words.next().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        _ => return None,
    };
    words.next().is_none().then_some((field, desc))
}
