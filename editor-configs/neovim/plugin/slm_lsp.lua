-- slm-lsp: nothing starts until `require("slm_lsp").setup{...}` is called, or `vim.g.slm_lsp` holds
-- the setup options (a table) before this file is sourced.
if vim.g.loaded_slm_lsp then
  return
end
vim.g.loaded_slm_lsp = true
if type(vim.g.slm_lsp) == "table" then
  require("slm_lsp").setup(vim.g.slm_lsp)
end
