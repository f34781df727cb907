--- slm-lsp for Neovim: starts `slm-lsp serve`, turns on LSP inline completion (0.12+) or the
--- completion-item fallback (older), draws the streamed partial suggestion as ghost text, keeps a
--- status line string from `slm/status` and `$/progress`, and fills the quickfix list from
--- `slm-lsp review`.
---
--- Usage (any plugin manager, or `dofile`):
---   require("slm_lsp").setup({ settings = { model = { path = "~/models/deepseek-coder-1.3b.gguf" } } })

local M = {}

local NAME = "slm_lsp"
local ghost_ns = vim.api.nvim_create_namespace("slm_lsp.ghost")

--- Defaults; `setup(opts)` merges `opts` over them.
M.defaults = {
  --- The server command; the first element must be an executable on PATH (or a full path).
  cmd = { "slm-lsp", "serve" },
  --- Extra arguments appended to `cmd` (e.g. `{ "--log-file", "/tmp/slm-lsp.log" }`).
  cmd_args = {},
  --- Filetypes the server attaches to.
  filetypes = {
    "python", "javascript", "javascriptreact", "typescript", "typescriptreact", "go", "rust",
    "java", "c", "cpp", "cs", "ruby", "php", "sh", "bash", "lua",
  },
  --- Files or folders that mark the workspace root (the folder the index is built for).
  root_markers = { ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml", ".slm-lsp.toml" },
  --- The server's `slm` settings section (same keys as `slm-lsp config --schema`, nested or dotted).
  settings = {},
  --- Draw `slm/partialCompletion` text as ghost text while the model generates.
  ghost_text = true,
  --- Highlight group of the streamed ghost text.
  ghost_hl = "SlmGhostText",
  --- Insert-mode keys for inline completion (0.12+); `false` leaves a key unmapped.
  keymaps = {
    accept = "<Tab>",
    next = "<M-]>",
    prev = "<M-[>",
    dismiss = "<C-]>",
    --- Normal-mode key for the code actions (quick fixes) at the cursor.
    code_action = "<leader>sa",
  },
  --- Command run by :SlmReview; the path and `--format json` are appended.
  review_cmd = nil, --- default: { cmd[1], "review" } (so a custom `cmd` is reused)
  --- Function used for user messages (tests replace it).
  notify = nil,
}

M.config = vim.deepcopy(M.defaults)

--- Per-client status: client_id → { state, model, family, latency_ms, message, progress }.
M.state = {}

local function notify(msg, level)
  local fn = M.config.notify or vim.notify
  fn(msg, level or vim.log.levels.INFO, { title = "slm-lsp" })
end

local function has(version)
  return vim.fn.has("nvim-" .. version) == 1
end

--- The full server command line.
function M.server_cmd()
  local cmd = vim.list_extend(vim.deepcopy(M.config.cmd), M.config.cmd_args or {})
  return cmd
end

--- True when the server executable can be run; otherwise tells the user (once) how to fix it.
local missing_reported = false
function M.check_executable()
  local exe = M.config.cmd[1]
  if vim.fn.executable(exe) == 1 then
    return true
  end
  if not missing_reported then
    missing_reported = true
    notify(
      ("slm-lsp: the server executable %q was not found on PATH. Install it from a slm-lsp checkout with `pip install .` "
        .. "(or `pipx install .`), or set `cmd` in require('slm_lsp').setup{}. Completions are off."):format(exe),
      vim.log.levels.ERROR
    )
  end
  return false
end

-- ------------------------------------------------------------------ status line
local function first_client_state()
  for _, client in ipairs(vim.lsp.get_clients({ name = NAME })) do
    if M.state[client.id] then
      return M.state[client.id]
    end
  end
  return nil
end

--- The current status: `{ state = "loading"|"ready"|"failed"|"generating"|..., model, family, latency_ms, message, progress }`
--- (nil before the server started).
function M.status()
  return first_client_state()
end

--- A short string for 'statusline' / lualine: `slm: loading model…`, `slm: tiny.gguf 42ms`, ...
function M.statusline()
  local s = first_client_state()
  if not s then
    return ""
  end
  if s.progress and s.progress ~= "" then
    return "slm: " .. s.progress
  end
  local state = s.state or "starting"
  if state == "ready" then
    local text = "slm: " .. (s.model ~= "" and s.model or "ready")
    if s.latency_ms then
      text = text .. (" %dms"):format(math.floor(s.latency_ms + 0.5))
    end
    return s.enabled == false and text .. " (off)" or text
  elseif state == "generating" then
    return "slm: …"
  elseif state == "loading" then
    return "slm: loading model…"
  elseif state == "failed" then
    return "slm: model failed"
  end
  return "slm: " .. state
end

--- Work-done progress in flight per client: client_id → token → { title, text }.
local progress = {}

local function progress_text(client_id)
  for _, task in pairs(progress[client_id] or {}) do
    return task.text
  end
  return ""
end

local function set_state(client_id, fields)
  local s = M.state[client_id] or { state = "starting", model = "", family = "" }
  for k, v in pairs(fields) do
    if v ~= vim.NIL then
      s[k] = v
    end
  end
  M.state[client_id] = s
  vim.api.nvim_exec_autocmds("User", { pattern = "SlmStatus", modeline = false, data = s })
  pcall(vim.cmd.redrawstatus)
end

-- ------------------------------------------------------------------ ghost text
local function uri_buffer(uri)
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.uri_from_bufnr(b) == uri then
      return b
    end
  end
  return nil
end

--- Remove the streamed ghost text from a buffer (all buffers when nil).
function M.clear_ghost(bufnr)
  local bufs = bufnr and { bufnr } or vim.api.nvim_list_bufs()
  for _, b in ipairs(bufs) do
    if vim.api.nvim_buf_is_valid(b) then
      vim.api.nvim_buf_clear_namespace(b, ghost_ns, 0, -1)
    end
  end
end

--- The ghost text currently drawn in a buffer (for tests and other plugins), or nil.
function M.ghost_text(bufnr)
  local marks = vim.api.nvim_buf_get_extmarks(bufnr or 0, ghost_ns, 0, -1, { details = true })
  if #marks == 0 then
    return nil
  end
  local d = marks[1][4]
  local parts = {}
  for _, chunk in ipairs(d.virt_text or {}) do
    table.insert(parts, chunk[1])
  end
  local text = table.concat(parts)
  for _, line in ipairs(d.virt_lines or {}) do
    text = text .. "\n" .. ((line[1] or {})[1] or "")
  end
  return text
end

--- Handler of `slm/partialCompletion` {uri, version, position, text, done}.
function M.on_partial(_, result, ctx)
  if not M.config.ghost_text or type(result) ~= "table" then
    return
  end
  local bufnr = uri_buffer(result.uri)
  if not bufnr then
    return
  end
  M.clear_ghost(bufnr)
  M.last_partial = result
  local version = vim.lsp.util.buf_versions[bufnr]
  if result.done or (version and result.version and version ~= result.version) then
    return -- the final suggestion is drawn by the inline-completion UI; a stale one is dropped
  end
  local text = result.text or ""
  if text == "" then
    return
  end
  local client = vim.lsp.get_client_by_id(ctx.client_id)
  local row = result.position.line
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
  if not line then
    return
  end
  local ok, col = pcall(vim.str_byteindex, line, client and client.offset_encoding or "utf-16", result.position.character, false)
  if not ok then
    col = #line
  end
  local lines = vim.split(text, "\n", { plain = true })
  local virt_lines = {}
  for i = 2, #lines do
    table.insert(virt_lines, { { lines[i], M.config.ghost_hl } })
  end
  pcall(vim.api.nvim_buf_set_extmark, bufnr, ghost_ns, row, math.min(col, #line), {
    virt_text = { { lines[1], M.config.ghost_hl } },
    virt_text_pos = "inline",
    virt_lines = #virt_lines > 0 and virt_lines or nil,
    hl_mode = "combine",
  })
end

-- ------------------------------------------------------------------ handlers
local handlers = {
  ["slm/status"] = function(_, result, ctx)
    if type(result) ~= "table" then
      return
    end
    local fields = { state = result.state, message = result.message }
    if result.model and result.model ~= "" then
      fields.model = result.model
    end
    if result.family and result.family ~= "" then
      fields.family = result.family
    end
    if result.latency_ms then
      fields.latency_ms = result.latency_ms
    end
    if result.state ~= "generating" then
      M.clear_ghost()
    end
    if result.state == "ready" or result.state == "failed" then
      -- the model's $/progress "end" may arrive a little after its state
      for token, task in pairs(progress[ctx.client_id] or {}) do
        if task.title == "loading model" then
          progress[ctx.client_id][token] = nil
        end
      end
      fields.progress = progress_text(ctx.client_id)
    end
    set_state(ctx.client_id, fields)
    if result.state == "failed" then
      -- the server also sends window/showMessage; keep the reason for :SlmStatus
      M.state[ctx.client_id].error = result.message
    end
  end,
  ["slm/partialCompletion"] = function(...)
    M.on_partial(...)
  end,
}

-- ------------------------------------------------------------------ keymaps
local function dismiss(bufnr)
  M.clear_ghost(bufnr)
  if vim.lsp.inline_completion and vim.lsp.inline_completion.is_enabled({ bufnr = bufnr }) then
    -- there is no public "hide": disabling and enabling again drops the current item
    vim.lsp.inline_completion.enable(false, { bufnr = bufnr })
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  end
end
M.dismiss = function()
  dismiss(vim.api.nvim_get_current_buf())
end

local function map_keys(bufnr)
  local keys = M.config.keymaps or {}
  local function map(mode, lhs, rhs, desc, expr)
    if lhs and lhs ~= "" then
      vim.keymap.set(mode, lhs, rhs, { buffer = bufnr, desc = "slm-lsp: " .. desc, expr = expr, silent = true })
    end
  end
  if vim.lsp.inline_completion then
    map("i", keys.accept, function()
      if not vim.lsp.inline_completion.get() then
        return vim.api.nvim_replace_termcodes(keys.accept, true, false, true)
      end
      M.clear_ghost(bufnr)
    end, "accept the suggestion", true)
    map("i", keys.next, function()
      vim.lsp.inline_completion.select({ count = 1 })
    end, "next suggestion")
    map("i", keys.prev, function()
      vim.lsp.inline_completion.select({ count = -1 })
    end, "previous suggestion")
    map("i", keys.dismiss, M.dismiss, "dismiss the suggestion")
  end
  map("n", keys.code_action, function()
    M.code_action()
  end, "code actions (security quick fixes)")
end

--- The server's code actions at the cursor (quick fixes for security findings, model edits).
--- `opts.apply = true` with `opts.preferred = true` applies the preferred quick fix directly.
function M.code_action(opts)
  opts = opts or {}
  vim.lsp.buf.code_action({
    apply = opts.apply,
    filter = function(action, client_id)
      local client = client_id and vim.lsp.get_client_by_id(client_id)
      if client and client.name ~= NAME then
        return false
      end
      return not opts.preferred or action.isPreferred == true
    end,
  })
end

local function on_attach(client, bufnr)
  if vim.lsp.inline_completion and client:supports_method("textDocument/inlineCompletion") then
    vim.lsp.inline_completion.enable(true, { bufnr = bufnr })
  elseif vim.lsp.completion and vim.lsp.completion.enable then
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = true }) -- 0.11: completion items
  else
    vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc" -- 0.10 and older: <C-x><C-o>
  end
  map_keys(bufnr)
  if M.config.on_attach then
    M.config.on_attach(client, bufnr)
  end
end

-- ------------------------------------------------------------------ start / failure
local function explain_failure(code, signal)
  -- The server died during start-up: run it again with stdin closed to catch its one-line error.
  local cmd = M.server_cmd()
  local ok, proc = pcall(vim.system, cmd, { text = true, stdin = false })
  local reason = ""
  if ok then
    local res = proc:wait(5000)
    local err = vim.trim(res.stderr or "")
    local lines = vim.split(err, "\n")
    for i = #lines, 1, -1 do
      if lines[i]:match("error") or lines[i]:match("Error") then
        reason = lines[i]
        break
      end
    end
    if reason == "" then
      reason = lines[#lines] or ""
    end
  end
  notify(
    ("slm-lsp: the server failed to start (%s): %s\nCommand: %s\nSee :LspLog, or add `--log-file FILE` to cmd_args."):format(
      signal and signal ~= 0 and ("signal " .. signal) or ("exit code " .. tostring(code)),
      reason ~= "" and reason or "no error message",
      table.concat(cmd, " ")
    ),
    vim.log.levels.ERROR
  )
end

local function lsp_config()
  local settings = M.config.settings or {}
  if M.config.ghost_text then
    settings = vim.tbl_deep_extend("keep", settings, { completion = { partial_notifications = true } })
  end
  return {
    name = NAME,
    cmd = M.server_cmd(),
    filetypes = M.config.filetypes,
    root_markers = M.config.root_markers,
    init_options = { slm = settings },
    settings = { slm = settings },
    handlers = handlers,
    on_attach = on_attach,
    on_init = function(client)
      set_state(client.id, { state = "starting", initialized = true })
    end,
    on_exit = function(code, signal, client_id)
      local s = M.state[client_id]
      M.state[client_id] = nil
      vim.schedule(function()
        M.clear_ghost()
        if (code ~= 0 or (signal and signal ~= 0 and signal ~= 15)) and not M._stopping then
          if s and s.initialized then
            notify(("slm-lsp: the server exited (code %s). :LspRestart or :SlmRestart starts it again."):format(code), vim.log.levels.ERROR)
          else
            explain_failure(code, signal)
          end
        end
      end)
    end,
  }
end

local function root_dir(bufnr)
  local path = vim.api.nvim_buf_get_name(bufnr)
  local found = vim.fs.find(M.config.root_markers, { path = vim.fs.dirname(path), upward = true })[1]
  return found and vim.fs.dirname(found) or vim.fs.dirname(path)
end

local function start_legacy(bufnr)
  if not M.check_executable() then
    return
  end
  local config = lsp_config()
  config.root_dir = root_dir(bufnr)
  local id = vim.lsp.start(config, { bufnr = bufnr })
  if not id then
    notify("slm-lsp: the server could not be started; see :LspLog", vim.log.levels.ERROR)
  end
end

-- ------------------------------------------------------------------ review
local function review_cmd(path)
  local base = M.config.review_cmd or { M.config.cmd[1], "review" }
  local cmd = vim.deepcopy(base)
  vim.list_extend(cmd, { path, "--format", "json" })
  return cmd
end

--- Turn `slm-lsp review --format json` output into quickfix items.
function M.review_items(decoded, root)
  local list = decoded
  if type(decoded) == "table" and decoded.findings then
    list = decoded.findings
  end
  local items = {}
  local sev = { high = "E", error = "E", medium = "W", warning = "W", low = "I", info = "I", note = "I" }
  for _, f in ipairs(type(list) == "table" and list or {}) do
    local path = f.path or f.file or f.filename
    if path and root and not vim.startswith(path, "/") then
      path = vim.fs.joinpath(root, path)
    end
    local rule = f.rule_id or f.rule or f.code
    table.insert(items, {
      filename = path,
      lnum = tonumber(f.line or f.lnum or f.start_line) or 1,
      col = tonumber(f.column or f.col or f.start_column or f.start_col) or 1,
      end_lnum = tonumber(f.end_line),
      end_col = tonumber(f.end_column),
      text = (rule and (rule .. ": ") or "") .. (f.message or ""),
      type = sev[tostring(f.severity or ""):lower()] or "W",
    })
  end
  return items
end

--- Run `slm-lsp review PATH --format json` and fill the quickfix list.
--- `opts.path` (default: the workspace root), `opts.wait` (ms; run synchronously), `opts.open` (open :copen).
function M.review(opts)
  opts = opts or {}
  local root = opts.path
  if not root or root == "" then
    local client = vim.lsp.get_clients({ name = NAME })[1]
    root = client and client.root_dir or vim.fn.getcwd()
  end
  root = vim.fn.fnamemodify(root, ":p"):gsub("/$", "")
  local cmd = review_cmd(root)
  if vim.fn.executable(cmd[1]) == 0 then
    notify(("slm-lsp: cannot run the review: %q was not found on PATH"):format(cmd[1]), vim.log.levels.ERROR)
    return
  end
  local function done(res)
    local ok, decoded = pcall(vim.json.decode, res.stdout or "", { luanil = { object = true, array = true } })
    if not ok or res.code > 1 then
      local err = vim.trim(res.stderr or "")
      notify(("slm-lsp: review failed (exit code %d): %s"):format(res.code, err ~= "" and err or "no JSON output"), vim.log.levels.ERROR)
      return
    end
    local dir = vim.fn.isdirectory(root) == 1 and root or vim.fs.dirname(root)
    local items = M.review_items(decoded, dir)
    vim.fn.setqflist({}, " ", { title = "slm-lsp review: " .. root, items = items })
    notify(("slm-lsp: review found %d finding%s"):format(#items, #items == 1 and "" or "s"))
    if opts.open ~= false and #items > 0 then
      vim.cmd("botright copen")
    end
  end
  local proc = vim.system(cmd, { text = true, cwd = vim.fn.isdirectory(root) == 1 and root or nil }, opts.wait and nil or vim.schedule_wrap(done))
  if opts.wait then
    done(proc:wait(opts.wait))
  end
end

-- ------------------------------------------------------------------ commands
local function exec(command)
  local client = vim.lsp.get_clients({ name = NAME })[1]
  if not client then
    notify("slm-lsp: the server is not running in this session", vim.log.levels.WARN)
    return
  end
  client:request("workspace/executeCommand", { command = command, arguments = {} }, function(err, result)
    if err then
      notify("slm-lsp: " .. command .. " failed: " .. (err.message or vim.inspect(err)), vim.log.levels.ERROR)
      return
    end
    if type(result) == "table" then
      set_state(client.id, { enabled = result.completions_enabled, latency_ms = result.last_latency_ms })
      if command == "slm.status" then
        notify(vim.inspect(result))
      end
    end
  end)
end

local function create_commands()
  local cmd = vim.api.nvim_create_user_command
  cmd("SlmReview", function(a)
    M.review({ path = a.args ~= "" and a.args or nil })
  end, { nargs = "?", complete = "dir", desc = "slm-lsp: review the workspace (or PATH) into the quickfix list" })
  cmd("SlmStatus", function()
    exec("slm.status")
  end, { desc = "slm-lsp: show the model status" })
  cmd("SlmToggle", function()
    exec("slm.toggle")
  end, { desc = "slm-lsp: turn completions off or on" })
  cmd("SlmReloadModel", function()
    exec("slm.reloadModel")
  end, { desc = "slm-lsp: load the model again" })
  cmd("SlmFix", function()
    M.code_action({ apply = true, preferred = true })
  end, { desc = "slm-lsp: apply the preferred quick fix at the cursor" })
  cmd("SlmRestart", function()
    M._stopping = true
    for _, c in ipairs(vim.lsp.get_clients({ name = NAME })) do
      c:stop()
    end
    vim.defer_fn(function()
      M._stopping = false
      vim.cmd("edit")
    end, 500)
  end, { desc = "slm-lsp: restart the server" })
end

-- ------------------------------------------------------------------ setup
--- Configure and enable the server. Returns false when the server executable is missing.
function M.setup(opts)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  if opts and opts.cmd then
    M.config.cmd = opts.cmd -- lists are replaced, not merged
  end
  if opts and opts.filetypes then
    M.config.filetypes = opts.filetypes
  end
  missing_reported = false
  pcall(vim.api.nvim_set_hl, 0, "SlmGhostText", { link = "Comment", default = true })
  create_commands()
  local group = vim.api.nvim_create_augroup("slm_lsp", { clear = true })
  vim.api.nvim_create_autocmd("LspProgress", {
    group = group,
    callback = function(ev)
      local client = vim.lsp.get_client_by_id(ev.data.client_id)
      if not client or client.name ~= NAME then
        return
      end
      local token = ev.data.params.token
      local value = ev.data.params.value or {}
      local tasks = progress[client.id] or {}
      progress[client.id] = tasks
      if value.kind == "end" then
        tasks[token] = nil
      else
        local task = tasks[token] or { title = "" }
        if value.title then
          task.title = value.title:gsub("^slm%-lsp: ", "")
        end
        task.text = value.message and value.message ~= "" and value.message or task.title
        if value.percentage then
          task.text = ("%s %d%%"):format(task.text, value.percentage)
        end
        tasks[token] = task
      end
      set_state(client.id, { progress = progress_text(client.id) })
    end,
  })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    callback = function(ev)
      M.clear_ghost(ev.buf)
    end,
  })
  local ok = M.check_executable()
  if has("0.11") and vim.lsp.config and vim.lsp.enable then
    vim.lsp.config(NAME, lsp_config())
    if ok then
      vim.lsp.enable(NAME)
    end
    -- vim.lsp.enable skips a missing executable silently: say so when a matching file opens
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = M.config.filetypes,
      callback = function()
        if M.check_executable() and not vim.lsp.is_enabled(NAME) then
          vim.lsp.enable(NAME)
        end
      end,
    })
  else
    vim.api.nvim_create_autocmd("FileType", {
      group = group,
      pattern = M.config.filetypes,
      callback = function(ev)
        start_legacy(ev.buf)
      end,
    })
  end
  return ok
end

return M
