-- Drive headless Neovim 0.11 against `ormlens server`, as a user's config would (vim.lsp.config +
-- vim.lsp.enable), for tests/test_editor_nvim.py.
--   ORMLENS_CMD=/abs/path/to/ormlens nvim --clean -l drive_nvim.lua FILE
-- Opens FILE, waits (at most 20 s) for diagnostics from ormlens, applies the ORM005 quick fix, and
-- prints to stdout, one a line:
--   DIAG <lnum> <col> <end_lnum> <end_col> <severity> <code> <source>   (vim.diagnostic: 0-based, byte columns)
--   LSP <line> <character> <end line> <end character> <code>            (the range as the server sent it)
--   HOVER <json of the hover's contents at the first diagnostic's start>
--   ACTION <title>     (each code action offered on the ORM005 diagnostic; "Count NULL as 0" is applied)
--   RESOLVED <n>       (codeAction/resolve requests Neovim sent for it)
--   FIXED <ORM005's line after the edit>
--   AFTER <lnum>:<code> ...   (ormlens diagnostics once the server has republished: only the ORM001s)
--   ROOT <root dir> / ENCODING <negotiated position encoding> / MSG <type> <text>
--   OK
-- Exits 1 with "FAIL: ..." on stderr otherwise.
local file = assert(arg[1], "usage: nvim --clean -l drive_nvim.lua FILE")
local ormlens = assert(os.getenv("ORMLENS_CMD"), "set ORMLENS_CMD")
local function out(s) io.stdout:write(s, "\n") end -- print() goes to stderr under -l
local function fail(msg) io.stderr:write("\nFAIL: " .. msg .. "\n"); os.exit(1) end

-- What the server says (window/logMessage, window/showMessage), printed as MSG lines.
for _, method in ipairs({ 'window/logMessage', 'window/showMessage' }) do
  vim.lsp.handlers[method] = function(_, params)
    out(string.format('MSG %s %s', vim.lsp.protocol.MessageType[params.type] or params.type,
      (params.message:gsub('\n', ' '))))
  end
end

vim.g.loaded_python3_provider = 0 -- the python ftplugin probes the py3 provider: ~0.7 s
vim.cmd.edit(vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()

-- Not part of the user's snippet: hear about a server that exits, through the '*' defaults.
local exited
vim.lsp.config('*', { on_exit = function(code, signal)
  exited = string.format('code %s, signal %s', code, signal)
end })

-- The snippet documented in README.md ("## Editors"), with the command made absolute.
vim.lsp.config('ormlens', {
  cmd = { ormlens, 'server' },
  filetypes = { 'python', 'htmldjango', 'jinja', 'html' },
  root_markers = { 'models.py', '.git' },
})
vim.lsp.enable('ormlens')
vim.bo[buf].filetype = 'python' -- FileType -> attach (no filetype detection runs under -l)

local function ours()
  return vim.tbl_filter(function(d) return d.source == 'ormlens' end, vim.diagnostic.get(buf))
end
-- Stop early if the server exits instead of waiting out the 20 s.
vim.wait(20000, function() return #ours() > 0 or exited ~= nil end, 20)
if #ours() == 0 then
  fail(exited and ('ormlens server exited: ' .. exited) or ('no diagnostics from ormlens within 20 s; clients='
    .. #vim.lsp.get_clients({ bufnr = buf })))
end
local client = vim.lsp.get_clients({ bufnr = buf, name = 'ormlens' })[1] or fail('no ormlens client')
out('ROOT ' .. tostring(client.root_dir))
out('ENCODING ' .. tostring(client.offset_encoding))

local diags = ours()
table.sort(diags, function(a, b) return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col) end)
for _, d in ipairs(diags) do
  out(string.format('DIAG %d %d %d %d %s %s %s', d.lnum, d.col, d.end_lnum, d.end_col,
    vim.diagnostic.severity[d.severity], tostring(d.code), tostring(d.source)))
  local raw = d.user_data and d.user_data.lsp
  if raw then
    local r = raw.range
    out(string.format('LSP %d %d %d %d %s', r.start.line, r.start.character, r['end'].line,
      r['end'].character, tostring(raw.code)))
  end
end

-- Hover at the first diagnostic's start, in the server's own units (the raw LSP range).
local first = diags[1].user_data and diags[1].user_data.lsp or fail('no raw LSP diagnostic kept')
local results = vim.lsp.buf_request_sync(buf, 'textDocument/hover', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  position = first.range.start,
}, 5000)
local hover
for _, res in pairs(results or {}) do
  if res.error then fail('hover error: ' .. vim.inspect(res.error)) end
  hover = hover or (res.result and res.result.contents)
end
if not hover then fail('no hover result: ' .. vim.inspect(results)) end
out('HOVER ' .. vim.json.encode(hover))

-- The quick fix, as a user applies it: cursor on the ORM005 squiggle, then a code action picked
-- by title (`apply = true` skips the menu when one action is left). ormlens sends actions without
-- their edit when the client can resolve them; Neovim resolves the chosen one itself.
local orm005
for _, d in ipairs(diags) do if d.code == 'ORM005' then orm005 = d end end
if not orm005 then fail('no ORM005 diagnostic') end
vim.api.nvim_win_set_cursor(0, { orm005.lnum + 1, orm005.col })
local before = vim.api.nvim_buf_get_lines(buf, orm005.lnum, orm005.lnum + 1, false)[1]
local resolved = 0
local orig_request = client.request
client.request = function(self, method, ...) -- count resolve round trips (not part of the snippet)
  if method == 'codeAction/resolve' then resolved = resolved + 1 end
  return orig_request(self, method, ...)
end
vim.lsp.buf.code_action({
  apply = true,
  filter = function(a)
    out('ACTION ' .. a.title)
    return a.title:find('Count NULL as 0', 1, true) ~= nil
  end,
})
if not vim.wait(5000, function()
  return vim.api.nvim_buf_get_lines(buf, orm005.lnum, orm005.lnum + 1, false)[1] ~= before
end, 20) then
  fail('the ORM005 quick fix was not applied within 5 s')
end
client.request = orig_request
out('RESOLVED ' .. resolved)
out('FIXED ' .. vim.api.nvim_buf_get_lines(buf, orm005.lnum, orm005.lnum + 1, false)[1])

-- The server republishes for the edited text: ORM005 gone, the two ORM001s still there.
local function codes()
  local c = {}
  for _, d in ipairs(ours()) do c[#c + 1] = d.lnum .. ':' .. tostring(d.code) end
  table.sort(c)
  return table.concat(c, ' ')
end
local after_want = '6:ORM001 7:ORM001'
if not vim.wait(5000, function() return codes() == after_want end, 20) then
  fail('after the fix expected diagnostics ' .. after_want .. ', got: ' .. codes())
end
out('AFTER ' .. codes())

client:stop()
vim.wait(3000, function() return client:is_stopped() end, 20)
out('OK')
os.exit(0)
