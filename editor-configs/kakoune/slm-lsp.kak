# slm-lsp for kakoune-lsp 17+ (servers configured in kakrc); source it from your kakrc.
hook -group slm-lsp global WinSetOption filetype=(python|javascript|typescript|go|rust|c|cpp|java|ruby|php|sh) %{
    set-option -add window lsp_servers %{
        [slm-lsp]
        root_globs = [".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml"]
        command = "slm-lsp"
        args = ["serve"]
        settings_section = "slm"
        [slm-lsp.settings.slm]
        completion.max_tokens = 48
        security.min_confidence = "medium"
    }
    lsp-enable-window
}
