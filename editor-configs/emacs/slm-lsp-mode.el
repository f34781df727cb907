;;; slm-lsp-mode.el --- slm-lsp with lsp-mode  -*- lexical-binding: t; -*-

;; Load from your init file: (load "/path/to/editor-configs/emacs/slm-lsp-mode.el")
;; Features with lsp-mode 9.0.1+: inline completion (lsp-inline-completion-mode: C-<return> accept,
;; C-n / C-p cycle, C-g dismiss; M-x lsp-inline-completion-display asks now), completion items,
;; security diagnostics (flycheck/flymake), quick fixes (M-x lsp-execute-code-action).
;; slm-lsp runs as an add-on beside your usual server for the language.

;;; Code:

(require 'lsp-mode)

(defgroup slm-lsp nil "slm-lsp: a small local code model." :group 'tools)

(defcustom slm-lsp-command '("slm-lsp" "serve")
  "Command line of the slm-lsp server."
  :type '(repeat string))

(defcustom slm-lsp-max-tokens 48
  "Most tokens generated for one completion (setting `completion.max_tokens')."
  :type 'integer)

(defcustom slm-lsp-model-path ""
  "GGUF model file (setting `model.path'); empty uses the embedded default."
  :type 'string)

(lsp-register-custom-settings
 '(("slm.completion.max_tokens" slm-lsp-max-tokens)
   ("slm.model.path" slm-lsp-model-path)))

(defun slm-lsp-mode--command ()
  "The server command, or a clear error when the executable is missing."
  (unless (executable-find (car slm-lsp-command))
    (lsp-warn "slm-lsp: `%s' was not found on PATH; install it from a slm-lsp checkout with `pip install .' (or `pipx install .') or set `slm-lsp-command'"
              (car slm-lsp-command)))
  slm-lsp-command)

(lsp-register-client
 (make-lsp-client
  :new-connection (lsp-stdio-connection #'slm-lsp-mode--command
                                        (lambda () (executable-find (car slm-lsp-command))))
  :activation-fn (lsp-activate-on "python" "javascript" "typescript" "typescriptreact" "go" "rust"
                                  "c" "cpp" "java" "ruby" "php" "shellscript")
  :server-id 'slm-lsp
  :add-on? t
  :priority -2
  :initialization-options (lambda () (list :slm (list :completion (list :max_tokens slm-lsp-max-tokens))))
  :initialized-fn (lambda (workspace)
                    (with-lsp-workspace workspace
                      (lsp--set-configuration (lsp-configuration-section "slm"))))))

(with-eval-after-load 'lsp-inline-completion
  (add-hook 'lsp-mode-hook #'lsp-inline-completion-mode))

(provide 'slm-lsp-mode)
;;; slm-lsp-mode.el ends here
