;;; slm-lsp-eglot.el --- slm-lsp with eglot  -*- lexical-binding: t; -*-

;; Load from your init file: (load "/path/to/editor-configs/emacs/slm-lsp-eglot.el")
;; Features with eglot: the model's suggestion as a completion item (completion-at-point,
;; company/corfu), security diagnostics (flymake), quick fixes (M-x eglot-code-actions).
;; eglot has no inline completion and runs one server per major mode: this makes slm-lsp
;; that server for the modes below (use lsp-mode, slm-lsp-mode.el, to run it beside another).

;;; Code:

(require 'eglot)

(defgroup slm-lsp nil "slm-lsp: a small local code model." :group 'tools)

(defcustom slm-lsp-command '("slm-lsp" "serve")
  "Command line of the slm-lsp server."
  :type '(repeat string))

(defcustom slm-lsp-settings
  '(:completion (:max_tokens 48) :security (:min_confidence "medium"))
  "The server's `slm' settings section (keys as in `slm-lsp config --schema')."
  :type 'plist)

(defconst slm-lsp-modes
  '(python-mode python-ts-mode js-mode js-ts-mode typescript-mode typescript-ts-mode
    go-mode go-ts-mode rust-mode rust-ts-mode c-mode c-ts-mode c++-mode c++-ts-mode
    java-mode java-ts-mode ruby-mode ruby-ts-mode php-mode sh-mode bash-ts-mode)
  "Major modes served by slm-lsp.")

(defun slm-lsp-eglot--contact (_interactive)
  "The server command, or a clear error when the executable is missing."
  (unless (executable-find (car slm-lsp-command))
    (user-error "slm-lsp: `%s' was not found on PATH; install it from a slm-lsp checkout with `pip install .' (or `pipx install .') or set `slm-lsp-command'"
                (car slm-lsp-command)))
  (append slm-lsp-command (list :initializationOptions (list :slm slm-lsp-settings))))

(add-to-list 'eglot-server-programs (cons slm-lsp-modes #'slm-lsp-eglot--contact))

(setq-default eglot-workspace-configuration
              (plist-put (copy-sequence (default-value 'eglot-workspace-configuration)) :slm slm-lsp-settings))

(provide 'slm-lsp-eglot)
;;; slm-lsp-eglot.el ends here
