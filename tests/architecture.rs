//! The shape `docs/architecture.md` draws, checked against the source: no two files of lktop's
//! library import each other, and the engine side never names the dashboard or its terminal
//! crates.
//!
//! Imports are read from `use` declarations (`crate::`, `super::`, `self::` and paths that
//! start with a child module), with their groups expanded, each resolved to the file that holds
//! the module it names: `use crate::pool::PoolStatus` is an import of `src/pool/mod.rs`,
//! whatever file defines the type, because that is the file the name goes through. Paths
//! written inline (`crate::config::Config::default()`) are not imports and are not read. Both
//! checks look at code only, with comments and string literals blanked out.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The top-level modules of the engine side: what runs headless (`lktop watch`, the engine,
/// the pool and its workers) and must build without the dashboard. A module split into a
/// directory stays covered.
const ENGINE_SIDE: &[&str] = &[
    "api",
    "audio",
    "config",
    "engine",
    "events",
    "jobs",
    "lifecycle",
    "limits",
    "poller",
    "pool",
    "quality",
    "reconnect",
    "room_alerts",
    "rooms_update",
    "snapshot",
];

/// What the engine side must never mention: the dashboard and the crates it draws with.
const DASHBOARD_NAMES: &[&str] = &["crate::tui", "crossterm", "ratatui"];

/// lktop's top-level modules in the rows of the diagram in `docs/architecture.md`, from the
/// bottom: a module imports only modules listed before it, in a lower row or to its left in
/// its own row.
const LAYERS: &[&[&str]] = &[
    &[
        "api",
        "config",
        "serde_time",
        "http_server",
        "color",
        "logging",
        "signals",
    ],
    &[
        "snapshot",
        "rooms_update",
        "webhooks",
        "history",
        "reconnect",
        "quality",
        "limits",
        "lifecycle",
        "room_alerts",
        "audio",
        "read_plan",
        "poller",
        "pool",
        "nodes",
        "jobs",
        "metrics",
    ],
    &["events", "engine", "record"],
    &["session", "watch", "tui", "cli"],
];

/// One `.rs` file of lktop's library.
struct SourceFile {
    /// Relative to the package, with `/` separators: `src/pool/mod.rs`.
    path: String,
    /// The module the file holds, from the crate root: `["pool"]` for `src/pool/mod.rs`.
    module: Vec<String>,
    /// The text with comments and string and character literals blanked out.
    code: String,
}

fn package_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file of the library under `src/`. `src/main.rs` is the binary, a crate of its own
/// whose `crate::` is not the library's.
fn library_files() -> Vec<SourceFile> {
    let root = package_root();
    let mut paths = Vec::new();
    collect_rust_files(&root.join("src"), &mut paths);
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(&root).expect("under the package");
            let relative = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            if relative == "src/main.rs" {
                return None;
            }
            let text = std::fs::read_to_string(&path).expect("a readable source file");
            Some(SourceFile {
                module: module_of(&relative),
                path: relative,
                code: code_only(&text),
            })
        })
        .collect()
}

fn collect_rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// `src/lib.rs` is the root, `src/a/mod.rs` and `src/a.rs` are `a`, `src/a/b.rs` is `a::b`.
fn module_of(relative: &str) -> Vec<String> {
    let inside = relative
        .strip_prefix("src/")
        .and_then(|rest| rest.strip_suffix(".rs"))
        .expect("a file under src/");
    let mut module: Vec<String> = inside.split('/').map(str::to_owned).collect();
    if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
        module.pop();
    }
    module
}

/// The text with every comment and the contents of every string and character literal
/// replaced by spaces (line breaks kept), so braces, `use` and names in prose or in strings
/// are not read as code.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut code = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                code.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in Rust.
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    code.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    code.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    code.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"' | '#'))
            && !(i > 0 && is_ident(chars[i - 1]) && chars[i - 1] != 'b')
            && raw_string_hashes(&chars[i + 1..]).is_some()
        {
            let hashes = raw_string_hashes(&chars[i + 1..]).unwrap_or_default();
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            // `r`, the hashes and the opening quote.
            for _ in 0..hashes + 2 {
                code.push(' ');
                i += 1;
            }
            while i < chars.len() && !chars[i..].starts_with(&closing) {
                code.push(blank(chars[i]));
                i += 1;
            }
            for _ in 0..closing.len().min(chars.len() - i) {
                code.push(' ');
                i += 1;
            }
        } else if c == '"' {
            code.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    code.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    code.push(blank(chars[i]));
                    i += 1;
                }
            }
            code.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&chars[i..]) {
            code.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                if chars[i] == '\\' {
                    code.push(' ');
                    i += 1;
                }
                code.push(' ');
                i += 1;
            }
            code.push(' ');
            i += 1;
        } else {
            code.push(c);
            i += 1;
        }
    }
    code
}

/// After an `r`: the number of `#` before the opening quote of a raw string, or `None`.
fn raw_string_hashes(after_r: &[char]) -> Option<usize> {
    let hashes = after_r.iter().take_while(|&&c| c == '#').count();
    (after_r.get(hashes) == Some(&'"')).then_some(hashes)
}

/// At a `'`: a character literal (`'a'`, `'\n'`, `'\u{1F600}'`), not a lifetime or a label.
fn is_char_literal(at_quote: &[char]) -> bool {
    match at_quote.get(1) {
        Some('\\') => true,
        Some(_) => at_quote.get(2) == Some(&'\''),
        None => false,
    }
}

/// A token of code: a name, or one punctuation character (`::` is two `:`).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Name(String),
    Punct(char),
}

fn tokens(code: &str) -> Vec<Token> {
    let mut found = Vec::new();
    let mut name = String::new();
    for c in code.chars() {
        if c.is_alphanumeric() || c == '_' {
            name.push(c);
            continue;
        }
        if !name.is_empty() {
            found.push(Token::Name(std::mem::take(&mut name)));
        }
        if !c.is_whitespace() {
            found.push(Token::Punct(c));
        }
    }
    if !name.is_empty() {
        found.push(Token::Name(name));
    }
    found
}

/// Every path a `use` tree names, its groups expanded (`a::{b, c::d}` is `a::b` and `a::c::d`;
/// `self` in a group is the group's prefix).
fn use_paths(tree: &[Token]) -> Vec<Vec<String>> {
    let mut paths = Vec::new();
    let mut at = 0;
    expand_use_tree(tree, &mut at, &[], &mut paths);
    paths
}

fn expand_use_tree(
    tree: &[Token],
    at: &mut usize,
    prefix: &[String],
    paths: &mut Vec<Vec<String>>,
) {
    let mut path = prefix.to_vec();
    loop {
        match tree.get(*at) {
            Some(Token::Punct(':')) => *at += 1,
            Some(Token::Punct('{')) => {
                *at += 1;
                loop {
                    match tree.get(*at) {
                        Some(Token::Punct('}')) | None => {
                            *at += 1;
                            return;
                        }
                        Some(Token::Punct(',')) => *at += 1,
                        Some(_) => expand_use_tree(tree, at, &path, paths),
                    }
                }
            }
            Some(Token::Punct('*')) => {
                *at += 1;
                paths.push(path);
                return;
            }
            Some(Token::Name(name)) if name == "as" => {
                // The alias names nothing imported.
                *at += 2;
            }
            Some(Token::Name(name)) if name == "self" && !path.is_empty() => *at += 1,
            Some(Token::Name(name)) => {
                path.push(name.clone());
                *at += 1;
            }
            Some(Token::Punct(_)) | None => {
                if !path.is_empty() {
                    paths.push(path);
                }
                return;
            }
        }
    }
}

/// A block of a file that changes how what is inside it reads: an inline module (`mod tests
/// { … }`), inside which `super::` is the file's own module, or an item under `#[cfg(test)]`.
struct Scope {
    /// The inline module's name; `None` for an item that is not a module.
    module: Option<String>,
    /// The brace depth inside it.
    depth: usize,
    /// Test code: under `#[cfg(test)]`, or inside something that is.
    test: bool,
}

/// After a `#`: the attribute is `#[cfg(test)]`.
fn is_cfg_test(after_hash: &[Token]) -> bool {
    let expected = [
        Token::Punct('['),
        Token::Name("cfg".into()),
        Token::Punct('('),
        Token::Name("test".into()),
        Token::Punct(')'),
        Token::Punct(']'),
    ];
    after_hash.starts_with(&expected)
}

/// What one file's code refers to in the rest of the library. Test code (under
/// `#[cfg(test)]`) is left out: it is not part of the library, and a unit test may well use
/// what is built on the file it tests (the key actions' test checks the `Keymap` made from
/// them).
#[derive(Default)]
struct References {
    /// The files it imports with `use`, with the paths it imports through each.
    imports: BTreeMap<String, BTreeSet<String>>,
    /// The top-level modules its code names as `crate::module`, in `use` or inline.
    crate_modules: BTreeSet<String>,
}

/// Every file's references, by path.
fn references(files: &[SourceFile]) -> BTreeMap<String, References> {
    let by_module: BTreeMap<&[String], &str> = files
        .iter()
        .map(|file| (file.module.as_slice(), file.path.as_str()))
        .collect();
    files
        .iter()
        .map(|file| (file.path.clone(), references_of(file, &by_module)))
        .collect()
}

fn references_of(file: &SourceFile, by_module: &BTreeMap<&[String], &str>) -> References {
    let mut found = References::default();
    let tokens = tokens(&file.code);
    let mut scopes: Vec<Scope> = Vec::new();
    // An item under `#[cfg(test)]` is next.
    let mut test_item_next = false;
    let mut depth = 0;
    for (i, token) in tokens.iter().enumerate() {
        let in_tests = test_item_next || scopes.last().is_some_and(|scope| scope.test);
        match token {
            Token::Punct('#') if is_cfg_test(&tokens[i + 1..]) => test_item_next = true,
            Token::Punct('{') => {
                depth += 1;
                if test_item_next {
                    scopes.push(Scope {
                        module: None,
                        depth,
                        test: true,
                    });
                    test_item_next = false;
                }
            }
            Token::Punct('}') => {
                depth -= 1;
                if scopes.last().is_some_and(|scope| scope.depth > depth) {
                    scopes.pop();
                }
                test_item_next = false;
            }
            Token::Punct(';') => test_item_next = false,
            Token::Name(word) if word == "mod" => {
                if let (Some(Token::Name(name)), Some(Token::Punct('{'))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                {
                    scopes.push(Scope {
                        module: Some(name.clone()),
                        depth: depth + 1,
                        test: in_tests,
                    });
                    test_item_next = false;
                }
            }
            Token::Name(word) if word == "crate" && !in_tests => {
                if let (Some(Token::Punct(':')), Some(Token::Punct(':')), Some(Token::Name(name))) =
                    (tokens.get(i + 1), tokens.get(i + 2), tokens.get(i + 3))
                {
                    found.crate_modules.insert(name.clone());
                }
            }
            // `use<T>` after `impl Trait +` is precise capturing, not an import.
            Token::Name(word)
                if word == "use" && !in_tests && tokens.get(i + 1) != Some(&Token::Punct('<')) =>
            {
                let end = tokens[i..]
                    .iter()
                    .position(|token| *token == Token::Punct(';'))
                    .map_or(tokens.len(), |offset| i + offset);
                let mut here = file.module.clone();
                here.extend(scopes.iter().filter_map(|scope| scope.module.clone()));
                for path in use_paths(&tokens[i + 1..end]) {
                    let Some(target) = resolve(&here, &path, by_module) else {
                        continue;
                    };
                    if target != file.path {
                        found
                            .imports
                            .entry(target.to_owned())
                            .or_default()
                            .insert(path.join("::"));
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// The file of the deepest module `path` goes through, seen from module `here`; `None` for a
/// path into another crate.
fn resolve<'a>(
    here: &[String],
    path: &[String],
    by_module: &BTreeMap<&[String], &'a str>,
) -> Option<&'a str> {
    let mut absolute: Vec<String>;
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => {
            absolute = Vec::new();
            rest = &path[1..];
        }
        Some("self") => {
            absolute = here.to_vec();
            rest = &path[1..];
        }
        Some("super") => {
            absolute = here.to_vec();
            while rest.first().map(String::as_str) == Some("super") {
                absolute.pop();
                rest = &rest[1..];
            }
        }
        Some(first) => {
            // `use child::Item` names a child module; anything else is another crate.
            let mut child = here.to_vec();
            child.push(first.to_owned());
            if !by_module.contains_key(child.as_slice()) {
                return None;
            }
            absolute = here.to_vec();
        }
        None => return None,
    }
    absolute.extend(rest.iter().cloned());
    (0..=absolute.len())
        .rev()
        .find_map(|len| by_module.get(&absolute[..len]).copied())
}

/// A path of imports that comes back to where it started, shown file by file with the `use`s
/// that make each step.
fn show_circle(circle: &[&str], references: &BTreeMap<String, References>) -> String {
    let mut shown = circle.join(" -> ");
    shown.push_str(" -> ");
    shown.push_str(circle[0]);
    for (index, file) in circle.iter().enumerate() {
        let next = circle[(index + 1) % circle.len()];
        let paths = &references[*file].imports[next];
        let uses: Vec<String> = paths.iter().map(|path| format!("use {path};")).collect();
        let _ = write!(shown, "\n  {file}: {}", uses.join(" "));
    }
    shown
}

#[test]
fn no_files_import_each_other_in_a_circle() {
    let files = library_files();
    assert!(
        files.iter().any(|file| file.path == "src/engine/mod.rs"),
        "the library's files are found"
    );
    let references = references(&files);
    // Depth-first search over the import graph: an import of a file still on the path is a
    // circle. Each circle is reported once, from its smallest file.
    let mut circles = BTreeSet::new();
    let mut done: BTreeSet<&str> = BTreeSet::new();
    for start in references.keys() {
        let mut path: Vec<&str> = Vec::new();
        let mut stack: Vec<(&str, Vec<&str>)> = vec![(start.as_str(), Vec::new())];
        while let Some((file, _)) = stack.last() {
            let file = *file;
            if path.last() != Some(&file) {
                path.push(file);
                let next: Vec<&str> = references
                    .get(file)
                    .map(|refs| refs.imports.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                stack.last_mut().expect("just seen").1 = next;
            }
            let Some(other) = stack.last_mut().expect("just seen").1.pop() else {
                done.insert(file);
                path.pop();
                stack.pop();
                continue;
            };
            if let Some(at) = path.iter().position(|on_path| *on_path == other) {
                let mut circle: Vec<&str> = path[at..].to_vec();
                let smallest = (0..circle.len())
                    .min_by_key(|index| circle[*index])
                    .expect("a circle has a file");
                circle.rotate_left(smallest);
                circles.insert(show_circle(&circle, &references));
            } else if !done.contains(other) {
                stack.push((other, Vec::new()));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "files that import each other, directly or through others; move what they share into a \
         file below them:\n{}",
        circles.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn modules_import_only_downwards_as_the_architecture_doc_draws() {
    let files = library_files();
    let rank = |module: &str| {
        LAYERS
            .iter()
            .flat_map(|row| row.iter())
            .position(|listed| *listed == module)
    };
    let references = references(&files);
    let mut unplaced = BTreeSet::new();
    let mut upwards = BTreeSet::new();
    for file in &files {
        let Some(from) = file.module.first() else {
            // `src/lib.rs` declares the modules.
            continue;
        };
        let refs = &references[&file.path];
        let imported = refs.imports.keys().filter_map(|target| {
            let target = files.iter().find(|other| other.path == *target)?;
            target.module.first().cloned()
        });
        let named: BTreeSet<String> = imported.chain(refs.crate_modules.iter().cloned()).collect();
        for to in named.iter().filter(|to| *to != from) {
            match (rank(from), rank(to)) {
                (Some(from_rank), Some(to_rank)) if to_rank > from_rank => {
                    upwards.insert(format!("{} ({from}) -> {to}", file.path));
                }
                (Some(_), Some(_)) => {}
                (None, _) => {
                    unplaced.insert(from.clone());
                }
                (_, None) => {
                    unplaced.insert(to.clone());
                }
            }
        }
    }
    assert!(
        unplaced.is_empty(),
        "modules the diagram does not place; add them to LAYERS and to docs/architecture.md: \
         {unplaced:?}"
    );
    assert!(
        upwards.is_empty(),
        "imports against the direction of the diagram in docs/architecture.md:\n{}",
        upwards.into_iter().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn the_engine_side_never_names_the_dashboard() {
    let files = library_files();
    let mut checked = 0;
    let mut offences = Vec::new();
    for file in &files {
        let Some(top) = file.module.first() else {
            continue;
        };
        if !ENGINE_SIDE.contains(&top.as_str()) {
            continue;
        }
        checked += 1;
        for (number, line) in file.code.lines().enumerate() {
            for name in DASHBOARD_NAMES {
                if line.contains(name) {
                    offences.push(format!("{}:{}: {}", file.path, number + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        checked >= ENGINE_SIDE.len(),
        "the engine side's files are found"
    );
    assert!(
        offences.is_empty(),
        "the engine side names the dashboard:\n{}",
        offences.join("\n")
    );
}

#[test]
fn reading_code_skips_comments_and_strings_and_expands_use_groups() {
    let code = code_only(
        "use crate::a::{b::{self, C}, d as e}; // use crate::x;\n\
         let s = \"use crate::y; {\"; let r = r#\"}\"#; let c = '{'; fn f<'a>() {}\n\
         /* use crate::z; /* nested */ */ use super::*;\n",
    );
    assert!(!code.contains('x') && !code.contains('y') && !code.contains('z'));
    assert_eq!(code.matches('{').count(), code.matches('}').count());
    let tokens = tokens(&code);
    let end = tokens
        .iter()
        .position(|token| *token == Token::Punct(';'))
        .unwrap();
    let paths: Vec<String> = use_paths(&tokens[1..end])
        .into_iter()
        .map(|path| path.join("::"))
        .collect();
    assert_eq!(paths, ["crate::a::b", "crate::a::b::C", "crate::a::d"]);
    assert_eq!(module_of("src/lib.rs"), Vec::<String>::new());
    assert_eq!(module_of("src/pool/mod.rs"), ["pool"]);
    assert_eq!(module_of("src/cli/sandbox.rs"), ["cli", "sandbox"]);
}
