//! Compiled CUDA modules kept on disk between runs, keyed by the SHA-256 of
//! the NVRTC version, the options, the target and the source. An entry
//! carries the length and digest of its payload, so that a truncated or
//! corrupt file is recompiled and replaced, never handed to the driver
//! (`cuModuleLoadData` takes no length: a truncated CUBIN would be read past
//! its end).

use std::path::{Path, PathBuf};

use super::compile::{compile, options, CudaVersion, Module, Nvrtc, Output, Target};
use super::NAME;
use crate::backend::kernels::Kernel;
use crate::backend::BackendError;
use crate::input::sha256_hex;

/// The folder compiled kernels are kept in between runs: `$CLEARSTRESS_CACHE`,
/// else `$XDG_CACHE_HOME/clearstress`, else `~/.cache/clearstress`; `None` when
/// none can be named (every run then compiles).
fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("CLEARSTRESS_CACHE") {
        return Some(PathBuf::from(dir));
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("clearstress"))
}

/// The first line of a cache entry; the payload follows it.
const MAGIC: &str = "clearstress-cuda-module 1";

fn output_name(output: Output) -> &'static str {
    match output {
        Output::Cubin => "cubin",
        Output::Ptx => "ptx",
    }
}

/// A cache entry: `MAGIC kind length sha256\n` then the payload.
fn encode(module: &Module) -> Vec<u8> {
    let mut bytes = format!(
        "{MAGIC} {} {} {}\n",
        output_name(module.output),
        module.image.len(),
        sha256_hex(&module.image)
    )
    .into_bytes();
    bytes.extend_from_slice(&module.image);
    bytes
}

/// The module in a cache entry, or why it cannot be used (truncated, corrupt,
/// another output kind).
fn decode(bytes: &[u8], output: Output) -> Result<Module, String> {
    let end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or("no header line")?;
    let header = std::str::from_utf8(&bytes[..end]).map_err(|_| "the header is not text")?;
    let rest = header
        .strip_prefix(MAGIC)
        .ok_or_else(|| format!("the header `{header}` is not `{MAGIC} ...`"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let [kind, length, digest] = fields[..] else {
        return Err(format!("the header `{header}` has not three fields"));
    };
    if kind != output_name(output) {
        return Err(format!("holds {kind}, not {}", output_name(output)));
    }
    let image = &bytes[end + 1..];
    if length.parse::<usize>().ok() != Some(image.len()) {
        return Err(format!("{} bytes where {length} were written", image.len()));
    }
    if sha256_hex(image) != digest {
        return Err("the payload does not match its SHA-256".into());
    }
    Ok(Module {
        output,
        image: image.to_vec(),
    })
}

/// The cache file of `kernel` for `target` under this NVRTC and options: the
/// name carries the first 96 bits of the SHA-256 of all of them and the
/// source (collisions are out of reach).
fn cache_path(
    dir: &Path,
    kernel: &Kernel,
    target: Target,
    nvrtc: CudaVersion,
) -> Result<PathBuf, BackendError> {
    let key = format!(
        "nvrtc {nvrtc}\noptions {}\noutput {}\n\n{}",
        options(kernel, target)?.join(" "),
        output_name(target.output),
        kernel.source()
    );
    let hex = &sha256_hex(key.as_bytes())[..24];
    Ok(dir.join("cuda").join(format!(
        "{}-{}-{hex}.{}",
        kernel.name,
        target.gpu_architecture(),
        output_name(target.output)
    )))
}

/// Writes `module` to `path` beside it first, then renames, so that a reader
/// never sees half a file. A cache that cannot be written only costs the next
/// run a compilation.
fn store(path: &Path, module: &Module) {
    let _ = path
        .parent()
        .map(std::fs::create_dir_all)
        .transpose()
        .and_then(|_| {
            let partial = path.with_extension(format!("{}.partial", std::process::id()));
            std::fs::write(&partial, encode(module))?;
            std::fs::rename(&partial, path).inspect_err(|_| {
                let _ = std::fs::remove_file(&partial);
            })
        });
}

/// `kernel` for `target`, loaded by `load` (the driver's `load_module`, or a
/// stand-in in tests): from the cache when an intact entry is there and loads,
/// else compiled by NVRTC, loaded, and then kept (replacing an entry that was
/// corrupt or did not load). `load`'s error is the message the caller wants
/// reported.
pub fn load_cached<T>(
    nvrtc: &Nvrtc,
    kernel: &Kernel,
    target: Target,
    load: impl FnMut(&Module) -> Result<T, String>,
) -> Result<T, BackendError> {
    load_cached_in(cache_dir().as_deref(), nvrtc.version, kernel, target, load)
}

fn load_cached_in<T>(
    cache: Option<&Path>,
    nvrtc: CudaVersion,
    kernel: &Kernel,
    target: Target,
    mut load: impl FnMut(&Module) -> Result<T, String>,
) -> Result<T, BackendError> {
    let path = cache
        .map(|dir| cache_path(dir, kernel, target, nvrtc))
        .transpose()?;
    if let Some(bytes) = path.as_ref().and_then(|p| std::fs::read(p).ok()) {
        // An entry that is unreadable or does not load is compiled afresh and
        // replaced below; only the fresh module's failure is an error.
        if let Ok(loaded) = decode(&bytes, target.output).and_then(|m| load(&m)) {
            return Ok(loaded);
        }
    }
    let module = compile(kernel, target)?;
    let loaded = load(&module).map_err(|message| BackendError::Device {
        backend: NAME,
        message,
    })?;
    if let Some(path) = &path {
        store(path, &module);
    }
    Ok(loaded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cuda::compile::tests::nvrtc_or_skip;
    use crate::backend::kernels::CUDA_RNG_CHECK;

    #[test]
    fn a_cache_entry_decodes_only_whole_and_unaltered() {
        let module = Module {
            output: Output::Cubin,
            image: b"\x7fELF and so on".to_vec(),
        };
        let bytes = encode(&module);
        assert_eq!(decode(&bytes, Output::Cubin), Ok(module.clone()));
        assert!(decode(&bytes, Output::Ptx).is_err());
        assert!(decode(&bytes[..bytes.len() - 1], Output::Cubin).is_err());
        let mut altered = bytes.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(decode(&altered, Output::Cubin).is_err());
        for garbage in [
            &b""[..],
            b"\n",
            b"\xff\xfe\n\x00",
            b"clearstress-cuda-module 1 cubin\n",
        ] {
            assert!(decode(garbage, Output::Cubin).is_err());
        }
    }

    #[test]
    fn compiled_modules_are_cached_per_target_and_a_corrupt_entry_is_replaced() {
        let Some(nvrtc) = nvrtc_or_skip("the CUDA module cache") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let target = Target::for_device((9, 0), &nvrtc.archs).expect("NVRTC compiles for sm_90");
        let loads = std::cell::Cell::new(0);
        let cached = |target: Target| {
            load_cached_in(
                Some(dir.path()),
                nvrtc.version,
                &CUDA_RNG_CHECK,
                target,
                |m| {
                    loads.set(loads.get() + 1);
                    Ok(m.clone())
                },
            )
            .unwrap()
        };
        let entries = || {
            let mut paths: Vec<_> = std::fs::read_dir(dir.path().join("cuda"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            paths.sort();
            paths
        };
        let first = cached(target);
        assert_eq!(first.output, Output::Cubin);
        assert_eq!(&first.image[..4], b"\x7fELF", "a CUBIN is an ELF file");
        let [path] = &entries()[..] else {
            panic!("one entry: {:?}", entries())
        };
        let written = std::fs::read(path).unwrap();
        // A second load reads the entry (no compilation: the file is unchanged).
        assert_eq!(cached(target), first);
        assert_eq!(std::fs::read(path).unwrap(), written);
        // Garbage, then a truncated entry: a fresh, valid compilation, and the
        // entry rewritten.
        for broken in [
            b"\x00garbage\xff".to_vec(),
            written[..written.len() / 2].to_vec(),
        ] {
            std::fs::write(path, &broken).unwrap();
            assert_eq!(cached(target), first);
            assert_eq!(std::fs::read(path).unwrap(), written);
        }
        // Another output kind is another entry.
        let ptx = Target {
            output: Output::Ptx,
            ..target
        };
        let text = cached(ptx);
        assert!(String::from_utf8(text.image)
            .unwrap()
            .contains(".entry scenario_words("));
        assert_eq!(entries().len(), 2);
    }

    #[test]
    fn a_cached_module_that_does_not_load_is_compiled_afresh_and_replaced() {
        let Some(nvrtc) = nvrtc_or_skip("the CUDA module cache") else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let target = Target::for_device((9, 0), &nvrtc.archs).unwrap();
        let load = |refuse: bool| {
            load_cached_in(
                Some(dir.path()),
                nvrtc.version,
                &CUDA_RNG_CHECK,
                target,
                |m| match m.image.ends_with(b"stale") && refuse {
                    true => Err("stale".to_string()),
                    false => Ok(m.image.clone()),
                },
            )
        };
        let fresh = load(true).unwrap();
        let path = std::fs::read_dir(dir.path().join("cuda"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        // An intact entry whose module the driver refuses.
        let stale = Module {
            output: Output::Cubin,
            image: [&fresh[..], b"stale"].concat(),
        };
        std::fs::write(&path, encode(&stale)).unwrap();
        assert_eq!(load(true).unwrap(), fresh);
        assert_eq!(
            decode(&std::fs::read(&path).unwrap(), Output::Cubin)
                .unwrap()
                .image,
            fresh
        );
        // A fresh module the driver refuses is an error with the loader's message.
        let refused = load_cached_in(
            Some(dir.path()),
            nvrtc.version,
            &CUDA_RNG_CHECK,
            target,
            |_| Err::<(), _>("refused by the driver".to_string()),
        );
        assert!(
            matches!(refused, Err(BackendError::Device { ref message, .. }) if message == "refused by the driver"),
            "{refused:?}"
        );
    }
}
