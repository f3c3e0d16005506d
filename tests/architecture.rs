//! The crate's shape: data flows one way between the top-level modules (no
//! import cycle), and no source file grows past what a reader takes in at once.
//!
//! The module tree is walked from src/lib.rs through its `mod x;`
//! declarations, as the compiler does. In each file, comments, string and
//! character literals and every `#[cfg(test)]` item (the `mod tests { ... }`
//! blocks, test-only `mod x;` files) are cut out first; what is left is
//! searched for `crate::Y` paths (in `use` statements and expressions, `{...}`
//! groups included) and for `super::` chains that climb to the crate root.
//! Each such `Y` that is a top-level module (src/Y.rs or src/Y/) is an edge
//! from the file's top-level module to `Y`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file's lines beyond this want splitting by what they do.
const MAX_LINES: usize = 600;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Replaces comments (doc comments included) and the contents of string and
/// character literals by spaces, keeping every newline, so that what is left is
/// code and line numbers still hold.
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, ch: char| out.push(if ch == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if c[i] == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (next == Some('"') || next == Some('#'))
            && (i == 0 || !(c[i - 1].is_alphanumeric() || c[i - 1] == '_'))
            && {
                let hashes = c[i + 1..].iter().take_while(|&&h| h == '#').count();
                c.get(i + 1 + hashes) == Some(&'"')
            }
        {
            // A raw string r#"..."#: ends at a quote followed by as many hashes.
            let hashes = c[i + 1..].iter().take_while(|&&h| h == '#').count();
            out.push('"');
            i += 2 + hashes;
            while i < c.len() {
                if c[i] == '"' && c[i + 1..].iter().take_while(|&&h| h == '#').count() >= hashes {
                    i += 1 + hashes;
                    break;
                }
                blank(&mut out, c[i]);
                i += 1;
            }
            out.push('"');
        } else if c[i] == '"' {
            out.push('"');
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    blank(&mut out, c[i]);
                    i += 1;
                }
                if i < c.len() {
                    blank(&mut out, c[i]);
                    i += 1;
                }
            }
            out.push('"');
            i += 1;
        } else if c[i] == '\'' && (next == Some('\\') || c.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '\''); a lifetime ('a) has no
            // closing quote after one character.
            out.push_str("' ");
            i += 2;
            while i < c.len() && c[i] != '\'' {
                i += 1;
            }
            out.push('\'');
            i += 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Open(char),
    Close(char),
    Punct(char),
}

fn tokens(code: &str) -> Vec<(Token, usize)> {
    let c: Vec<char> = code.chars().collect();
    let (mut out, mut line, mut i) = (Vec::new(), 1, 0);
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch.is_alphanumeric() || ch == '_' || ch == '$' {
            let start = i;
            i += 1;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            out.push((Token::Ident(word.trim_start_matches('$').into()), line));
        } else if ch == ':' && c.get(i + 1) == Some(&':') {
            out.push((Token::PathSep, line));
            i += 2;
        } else {
            let token = match ch {
                '(' | '[' | '{' => Token::Open(ch),
                ')' | ']' | '}' => Token::Close(ch),
                _ => Token::Punct(ch),
            };
            out.push((token, line));
            i += 1;
        }
    }
    out
}

/// What one file declares and references.
#[derive(Debug, Default, PartialEq)]
struct FileRefs {
    /// Module paths of the `mod x;` files it declares (outside `#[cfg(test)]`).
    children: Vec<Vec<String>>,
    /// Names reached at the crate root (`crate::name`, or `super::` chains
    /// that climb to the root), with the line.
    root_names: Vec<(String, usize)>,
}

fn is(t: Option<&(Token, usize)>, want: &Token) -> bool {
    t.is_some_and(|(t, _)| t == want)
}

fn ident(t: Option<&(Token, usize)>) -> Option<&str> {
    match t {
        Some((Token::Ident(s), _)) => Some(s),
        _ => None,
    }
}

/// The index after the item starting at `i`: its `;` at depth 0, or the
/// bracket that closes its first `{` (attributes before it included).
fn item_end(t: &[(Token, usize)], mut i: usize) -> usize {
    let mut depth = 0usize;
    while i < t.len() {
        match &t[i].0 {
            Token::Open(_) => depth += 1,
            Token::Close(ch) => {
                depth = depth.saturating_sub(1);
                if depth == 0 && *ch == '}' {
                    return i + 1;
                }
            }
            Token::Punct(';') if depth == 0 => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// The names at the first level of the `{...}` group opening at `i`.
fn group_names(t: &[(Token, usize)], i: usize) -> Vec<(String, usize)> {
    let (mut names, mut depth, mut j) = (Vec::new(), 0usize, i);
    while j < t.len() {
        match &t[j].0 {
            Token::Open(_) => depth += 1,
            Token::Close(_) => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Token::Ident(s)
                if depth == 1
                    && (is(t.get(j - 1), &Token::Open('{'))
                        || is(t.get(j - 1), &Token::Punct(','))) =>
            {
                names.push((s.clone(), t[j].1));
            }
            _ => {}
        }
        j += 1;
    }
    names
}

/// The declarations and root references of a file that is module `path`.
fn scan(text: &str, path: &[String]) -> FileRefs {
    let t = tokens(&strip(text));
    let mut refs = FileRefs::default();
    // Inline `mod x { ... }` blocks entered, with the depth their brace opened at.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < t.len() {
        let here: Vec<String> = path
            .iter()
            .cloned()
            .chain(inline.iter().map(|(m, _)| m.clone()))
            .collect();
        let is_cfg_test = is(t.get(i), &Token::Punct('#'))
            && is(t.get(i + 1), &Token::Open('['))
            && ident(t.get(i + 2)) == Some("cfg")
            && is(t.get(i + 3), &Token::Open('('))
            && ident(t.get(i + 4)) == Some("test")
            && is(t.get(i + 5), &Token::Close(')'))
            && is(t.get(i + 6), &Token::Close(']'));
        if is_cfg_test {
            i = item_end(&t, i + 7);
            continue;
        }
        match &t[i].0 {
            Token::Open(_) => depth += 1,
            Token::Close(_) => {
                depth -= 1;
                if inline.last().is_some_and(|&(_, d)| d == depth) {
                    inline.pop();
                }
            }
            Token::Ident(kw) if kw == "mod" => {
                if let Some(name) = ident(t.get(i + 1)) {
                    if is(t.get(i + 2), &Token::Punct(';')) {
                        refs.children
                            .push(here.into_iter().chain([name.to_string()]).collect());
                    } else if is(t.get(i + 2), &Token::Open('{')) {
                        inline.push((name.to_string(), depth));
                        depth += 1;
                        i += 3;
                        continue;
                    }
                }
            }
            Token::Ident(kw) if kw == "crate" || kw == "super" => {
                // A path's first segment only: `x::crate` does not occur, and
                // `a::super` is not a path that climbs.
                let mut j = i;
                let mut climbs = 0;
                while ident(t.get(j)) == Some("super") && is(t.get(j + 1), &Token::PathSep) {
                    climbs += 1;
                    j += 2;
                }
                let at_root = if kw == "crate" {
                    if is(t.get(i + 1), &Token::PathSep) {
                        j = i + 2;
                        true
                    } else {
                        false
                    }
                } else {
                    climbs > 0 && climbs == here.len()
                };
                if at_root {
                    match t.get(j) {
                        Some((Token::Ident(name), line)) => {
                            refs.root_names.push((name.clone(), *line))
                        }
                        Some((Token::Open('{'), _)) => refs.root_names.extend(group_names(&t, j)),
                        _ => {}
                    }
                }
                i = j.max(i + 1);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    refs
}

/// The file holding module `path` (`src/a/b.rs` or `src/a/b/mod.rs`).
fn module_file(path: &[String]) -> PathBuf {
    let mut base = src();
    for segment in &path[..path.len() - 1] {
        base.push(segment);
    }
    let name = &path[path.len() - 1];
    let flat = base.join(format!("{name}.rs"));
    if flat.exists() {
        flat
    } else {
        base.join(name).join("mod.rs")
    }
}

/// An edge's evidence: the file and line of its first reference.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// The graph of top-level modules, walked from src/lib.rs.
fn module_graph() -> Graph {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let top: Vec<Vec<String>> = scan(&lib, &[]).children;
    let names: BTreeSet<String> = top.iter().map(|p| p[0].clone()).collect();
    let mut graph = Graph::new();
    let mut queue = top;
    while let Some(path) = queue.pop() {
        let file = module_file(&path);
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("module {} at {}: {e}", path.join("::"), file.display()));
        let refs = scan(&text, &path);
        let from = &path[0];
        let edges = graph.entry(from.clone()).or_default();
        for (name, line) in refs.root_names {
            if names.contains(&name) && &name != from {
                let shown = file
                    .strip_prefix(src().parent().unwrap())
                    .unwrap()
                    .display();
                edges
                    .entry(name)
                    .or_insert_with(|| format!("{shown}:{line}"));
            }
        }
        queue.extend(refs.children);
    }
    graph
}

/// Strongly connected components of more than one module (Tarjan), each as
/// its members in order.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flat_map(|e| e.keys()) {
            if !s.index.contains_key(w.as_str()) {
                visit(s, w);
                let low = s.low[v].min(s.low[w.as_str()]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w.as_str()) {
                let low = s.low[v].min(s.index[w.as_str()]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.found.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.found
}

/// A shortest cycle through `from` inside `component` (breadth first), as
/// `a -> b -> a` from its first name in order, each edge with the reference that makes it.
fn describe_cycle(graph: &Graph, component: &[String], from: &str) -> String {
    let inside: BTreeSet<&str> = component.iter().map(String::as_str).collect();
    let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from]);
    'search: while let Some(v) = queue.pop_front() {
        for w in graph[v].keys().map(String::as_str) {
            if !inside.contains(w) || previous.contains_key(w) {
                continue;
            }
            previous.insert(w, v);
            if w == from {
                break 'search;
            }
            queue.push_back(w);
        }
    }
    let mut path = vec![from];
    let mut v = previous[from];
    while v != from {
        path.push(v);
        v = previous[v];
    }
    path.reverse();
    // Start at the first name, so that one cycle found from two of its
    // modules reads the same.
    let first = (0..path.len()).min_by_key(|&k| path[k]).unwrap();
    path.rotate_left(first);
    path.push(path[0]);
    let chain = path.join(" -> ");
    let evidence: Vec<String> = path
        .windows(2)
        .map(|e| format!("    {} -> {}: {}", e[0], e[1], graph[e[0]][e[1]]))
        .collect();
    format!("{chain}\n{}", evidence.join("\n"))
}

#[test]
fn the_top_level_modules_import_each_other_without_a_cycle() {
    let graph = module_graph();
    // The walk reached the stages (a scanner that found nothing passes vacuously).
    for stage in [
        "snapshot", "scenario", "backend", "engine", "analysis", "cli",
    ] {
        assert!(graph.contains_key(stage), "module {stage} not reached");
    }
    assert!(
        graph["engine"].contains_key("backend"),
        "the engine's use of the backend was not seen: {:?}",
        graph["engine"]
    );
    let found = cycles(&graph);
    // A shortest cycle through each module of each group, each cycle once.
    let mut shown = BTreeSet::new();
    for component in &found {
        for m in component {
            shown.insert(describe_cycle(&graph, component, m));
        }
    }
    let shown: Vec<String> = shown.into_iter().collect();
    assert!(
        found.is_empty(),
        "import cycles between top-level modules ({} group(s): {}):\n{}",
        found.len(),
        found
            .iter()
            .map(|c| c.join(", "))
            .collect::<Vec<_>>()
            .join("; "),
        shown.join("\n")
    );
}

/// The per-scenario path (random numbers, scenarios, pricing, the book, the
/// backends, tails, margin, the default fund, the engine) reads no module of
/// the offline workflows: calibration, the analyses, the reports, the command
/// line and the sample books run the engine, never the other way round.
#[test]
fn the_hot_path_imports_no_offline_workflow() {
    const HOT: [&str; 9] = [
        "rng",
        "scenario",
        "pricing",
        "book",
        "backend",
        "tail",
        "margin",
        "default_fund",
        "engine",
    ];
    const OFFLINE: [&str; 5] = ["calibrate", "analysis", "report", "cli", "sample"];
    let graph = module_graph();
    let wrong: Vec<String> = HOT
        .iter()
        .flat_map(|&hot| {
            let graph = &graph;
            OFFLINE.iter().filter_map(move |&offline| {
                let at = graph.get(hot)?.get(offline)?;
                Some(format!("  {hot} -> {offline}: {at}"))
            })
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "the hot path imports offline workflows:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_source_file_exceeds_600_lines() {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, usize)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push((path, text.lines().count()));
            }
        }
    }
    let mut files = Vec::new();
    walk(&src(), &mut files);
    let mut long: Vec<String> = files
        .iter()
        .filter(|(_, lines)| *lines > MAX_LINES)
        .map(|(path, lines)| {
            let shown = path.strip_prefix(src().parent().unwrap()).unwrap();
            format!("  {}: {lines} lines", shown.display())
        })
        .collect();
    long.sort();
    assert!(
        long.is_empty(),
        "source files over {MAX_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// The scanner itself, on a file that uses every form it must see or skip.
#[test]
fn the_scanner_sees_crate_and_super_paths_and_skips_tests_comments_and_strings() {
    let text = r####"
//! Docs naming crate::doc_only.
use crate::alpha::X;
use crate::{beta::Y, gamma};
use super::super::delta;
pub(crate) fn f() -> crate::epsilon::Z { let _s = "crate::in_string"; let _c = '"'; crate::zeta::g() }
/* crate::block /* nested crate::nested */ crate::still_block */
fn lifetimes<'a>(x: &'a str) -> &'a str { let _r = r#"crate::raw "quoted""#; x }
mod child;
pub(super) mod inline {
    use super::super::super::eta;
    use super::super::same_module;
    mod grandchild;
}
#[cfg(test)]
mod test_only;
#[cfg(test)]
mod tests {
    use crate::theta;
}
use crate::iota as _;
"####;
    let refs = scan(text, &["top".into(), "file".into()]);
    let names: Vec<&str> = refs.root_names.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "iota"]
    );
    let children: Vec<String> = refs.children.iter().map(|c| c.join("::")).collect();
    assert_eq!(
        children,
        ["top::file::child", "top::file::inline::grandchild"]
    );
    assert_eq!(
        refs.root_names[0].1, 3,
        "line numbers survive the stripping"
    );

    // And the cycle report names the cycle with its evidence.
    let mut graph = Graph::new();
    for (a, b) in [
        ("snapshot", "history"),
        ("history", "snapshot"),
        ("engine", "snapshot"),
    ] {
        graph
            .entry(a.into())
            .or_default()
            .insert(b.into(), format!("src/{a}.rs:1"));
    }
    let found = cycles(&graph);
    assert_eq!(found, [vec!["history".to_string(), "snapshot".into()]]);
    let shown = describe_cycle(&graph, &found[0], "snapshot");
    assert!(
        shown.starts_with("history -> snapshot -> history\n"),
        "{shown}"
    );
}
