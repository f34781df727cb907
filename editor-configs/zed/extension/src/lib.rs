//! Zed extension that starts `slm-lsp serve` (found on PATH, or `lsp.slm-lsp.binary.path`) and passes
//! the `lsp.slm-lsp` initialization options and settings from Zed's settings.json.
use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result};

struct SlmLsp;

impl zed::Extension for SlmLsp {
    fn new() -> Self {
        SlmLsp
    }

    fn language_server_command(&mut self, id: &LanguageServerId, worktree: &zed::Worktree) -> Result<zed::Command> {
        let binary = LspSettings::for_worktree(id.as_ref(), worktree).ok().and_then(|s| s.binary);
        let path = binary
            .as_ref()
            .and_then(|b| b.path.clone())
            .or_else(|| worktree.which("slm-lsp"))
            .ok_or_else(|| "slm-lsp: the `slm-lsp` executable was not found on PATH; install it from a slm-lsp checkout with `pip install .` (or `pipx install .`) or set lsp.slm-lsp.binary.path".to_string())?;
        let args = binary.and_then(|b| b.arguments).unwrap_or_else(|| vec!["serve".into()]);
        Ok(zed::Command { command: path, args, env: worktree.shell_env() })
    }

    fn language_server_initialization_options(&mut self, id: &LanguageServerId, worktree: &zed::Worktree) -> Result<Option<zed::serde_json::Value>> {
        Ok(LspSettings::for_worktree(id.as_ref(), worktree).ok().and_then(|s| s.initialization_options))
    }

    fn language_server_workspace_configuration(&mut self, id: &LanguageServerId, worktree: &zed::Worktree) -> Result<Option<zed::serde_json::Value>> {
        Ok(LspSettings::for_worktree(id.as_ref(), worktree).ok().and_then(|s| s.settings))
    }
}

zed::register_extension!(SlmLsp);
