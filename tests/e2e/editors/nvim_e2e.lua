-- Drives a real headless Neovim with the shipped plugin (editor-configs/neovim) and the real server.
-- Run by tests/e2e/editors/test_neovim.py: `nvim --headless -u NONE -i NONE -n -l nvim_e2e.lua MODE`.
-- Configuration comes from SLM_TEST_* environment variables; results go to $SLM_TEST_OUT as JSON.
-- Every wait is bounded (vim.wait with a condition); nothing sleeps for a fixed time.

local env = vim.env
local mode = _G.arg and _G.arg[1] or "e2e"
local out_path = assert(env.SLM_TEST_OUT, "SLM_TEST_OUT not set")
local result = { mode = mode, notifications = {}, steps = {} }
local t_start = vim.uv.hrtime()

local function elapsed_ms()
  return math.floor((vim.uv.hrtime() - t_start) / 1e6)
end

local function write_result()
  result.elapsed_ms = elapsed_ms()
  local fh = assert(io.open(out_path, "w"))
  fh:write(vim.json.encode(result))
  fh:close()
end

local function step(name, data)
  data = data or {}
  data.at_ms = elapsed_ms()
  result.steps[name] = data
  write_result() -- partial results survive a crash or a timeout
end

-- Capture every user message (the plugin's and the server's window/showMessage).
local function capture(msg, level)
  table.insert(result.notifications, { message = tostring(msg), level = level or vim.log.levels.INFO })
end
vim.notify = capture

vim.opt.runtimepath:prepend(env.SLM_TEST_PLUGIN)
vim.cmd("filetype on")
vim.o.hidden = true
vim.cmd("runtime! plugin/slm_lsp.lua")
local slm = require("slm_lsp")

local timeout = tonumber(env.SLM_TEST_TIMEOUT_MS or "60000")
local python = env.SLM_TEST_PYTHON or "python3"

-- ------------------------------------------------------------------ failure modes
if mode == "missing" then
  -- The executable is not on PATH: setup returns false and says so, once, at ERROR level.
  local ok = slm.setup({ cmd = { "slm-lsp-does-not-exist", "serve" } })
  result.setup_returned = ok
  vim.cmd.edit(env.SLM_TEST_WORKSPACE .. "/hello.py")
  vim.wait(200, function()
    return #vim.lsp.get_clients({ name = "slm_lsp" }) > 0
  end)
  result.clients = #vim.lsp.get_clients({ name = "slm_lsp" })
  write_result()
  vim.cmd("qa!")
end

if mode == "failing" then
  -- The executable exists but the server exits at once (an invalid setting on its command line).
  slm.setup({ cmd = { python, "-m", "slm_lsp", "serve", "--set", "no_such.setting=1" } })
  vim.cmd.edit(env.SLM_TEST_WORKSPACE .. "/hello.py")
  result.got_error = vim.wait(timeout, function()
    for _, n in ipairs(result.notifications) do
      if n.message:match("failed to start") then
        return true
      end
    end
    return false
  end, 50)
  write_result()
  vim.cmd("qa!")
end

-- ------------------------------------------------------------------ end to end
local ws = env.SLM_TEST_WORKSPACE
slm.setup({
  cmd = { python, "-m", "slm_lsp", "serve" },
  cmd_args = { "--log-file", env.SLM_TEST_LOG },
  review_cmd = { python, "-m", "slm_lsp", "review" },
  settings = {
    model = { path = env.SLM_TEST_MODEL },
    completion = { max_tokens = 16, debounce_ms = 0 },
  },
})

-- Watch the streamed ghost text as it is drawn.
local partials = { count = 0, drawn = 0, done = 0, texts = {} }
local on_partial = slm.on_partial
slm.on_partial = function(err, res, ctx)
  on_partial(err, res, ctx)
  if res.done then
    partials.done = partials.done + 1
    return
  end
  partials.count = partials.count + 1
  local bufnr = vim.uri_to_bufnr(res.uri)
  local ghost = slm.ghost_text(bufnr)
  if ghost and ghost ~= "" then
    partials.drawn = partials.drawn + 1
    table.insert(partials.texts, ghost)
  end
end
local statuslines = {}
vim.api.nvim_create_autocmd("User", {
  pattern = "SlmStatus",
  callback = function()
    local s = slm.statusline()
    if statuslines[#statuslines] ~= s then
      table.insert(statuslines, s)
    end
  end,
})

-- 1. Inline completion in a Python file, accepted into the buffer.
vim.cmd.edit(ws .. "/hello.py")
local buf = vim.api.nvim_get_current_buf()
local attached = vim.wait(timeout, function()
  return #vim.lsp.get_clients({ bufnr = buf, name = "slm_lsp" }) > 0
end, 20)
local ready = vim.wait(timeout, function()
  local s = slm.status()
  return s ~= nil and (s.state == "ready" or s.state == "failed")
end, 20)
step("attach", { attached = attached, ready = ready, status = slm.status(), statusline = slm.statusline() })

local line_before = vim.api.nvim_buf_get_lines(buf, 2, 3, false)[1]
local inline_ns = vim.api.nvim_get_namespaces()["nvim.lsp.inline_completion"]
local shown, accepted, suggestion = false, false, nil

_G.slm_test_insert = function()
  -- Insert mode, cursor at the end of the comment line: the plugin's inline completion fires.
  shown = vim.wait(timeout, function()
    return #vim.api.nvim_buf_get_extmarks(buf, inline_ns, 0, -1, {}) > 0
  end, 20)
  if shown then
    local mark = vim.api.nvim_buf_get_extmarks(buf, inline_ns, 0, -1, { details = true })[1]
    local parts = {}
    for _, chunk in ipairs(mark[4].virt_text or {}) do
      table.insert(parts, chunk[1])
    end
    suggestion = table.concat(parts)
    accepted = vim.lsp.inline_completion.get()
    vim.wait(timeout, function()
      return vim.api.nvim_buf_get_lines(buf, 2, 3, false)[1] ~= line_before
    end, 20)
  end
end
vim.api.nvim_win_set_cursor(0, { 3, #line_before - 1 })
vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("A<Cmd>lua slm_test_insert()<CR><Esc>", true, false, true), "nx", false)
step("inline", {
  shown = shown,
  accepted = accepted,
  suggestion = suggestion,
  line_before = line_before,
  line_after = vim.api.nvim_buf_get_lines(buf, 2, 3, false)[1],
  partials = partials,
  ghost_after = slm.ghost_text(buf),
  statusline = slm.statusline(),
  statuslines = statuslines,
  keymaps = vim.tbl_map(function(m)
    return m.lhs
  end, vim.api.nvim_buf_get_keymap(buf, "i")),
})

-- 2. A security diagnostic and its quick fix.
vim.cmd.edit(ws .. "/insecure.py")
local ibuf = vim.api.nvim_get_current_buf()
local diag = nil
vim.wait(timeout, function()
  for _, d in ipairs(vim.diagnostic.get(ibuf)) do
    if d.code == "PY-B506" then
      diag = d
      return true
    end
  end
  return false
end, 20)
local fixed = false
if diag then
  vim.api.nvim_win_set_cursor(0, { diag.lnum + 1, diag.col })
  slm.code_action({ apply = true, preferred = true })
  fixed = vim.wait(timeout, function()
    return table.concat(vim.api.nvim_buf_get_lines(ibuf, 0, -1, false), "\n"):find("yaml.safe_load", 1, true) ~= nil
  end, 20)
end
step("quickfix", {
  diagnostic = diag and { code = diag.code, lnum = diag.lnum, message = diag.message, source = diag.source } or vim.NIL,
  all_codes = vim.tbl_map(function(d)
    return d.code
  end, vim.diagnostic.get(ibuf)),
  fixed = fixed,
  text = table.concat(vim.api.nvim_buf_get_lines(ibuf, 0, -1, false), "\n"),
})

-- 3. :SlmReview fills the quickfix list (the review runs in the background; wait for the list).
do
  vim.fn.setqflist({}, "r")
  vim.cmd("SlmReview " .. ws)
  vim.wait(timeout, function()
    return #vim.fn.getqflist() > 0
  end, 50)
  local items = {}
  for _, it in ipairs(vim.fn.getqflist()) do
    table.insert(items, { file = vim.api.nvim_buf_get_name(it.bufnr), lnum = it.lnum, col = it.col, text = it.text, type = it.type })
  end
  step("review", { items = items, title = vim.fn.getqflist({ title = 1 }).title })
end

result.ok = true
write_result()
vim.cmd("qa!")
