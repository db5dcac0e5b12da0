;;; drive_eglot.el --- drive Emacs (batch) + eglot against `ormlens server`, for tests/test_editor_emacs.py
;;;   ORMLENS_CMD=/abs/path/to/ormlens emacs --batch -Q -l drive_eglot.el FILE
;;; Debian 12: Emacs 28.2 (emacs-nox) + eglot 1.9 (elpa-eglot); Emacs 29 and later ship eglot.
;;; Configures eglot with the snippet documented in README.md ("## Editors"), the command made
;;; absolute, opens FILE, starts eglot as `M-x eglot' does, waits (at most 10 s) for flymake
;;; diagnostics from ormlens, and prints to stdout, one a line:
;;;   SERVER <the command eglot started>
;;;   DIAG <line>:<col>-<line>:<col> <flymake type> <code> <text>   (0-based, as flymake holds them)
;;;   OK
;;; Exits 1 with "FAIL: ..." on stderr otherwise.
(add-to-list 'package-directory-list "/usr/share/emacs/site-lisp/elpa")
(package-initialize)                       ; activates Debian's elpa-eglot under -Q
(require 'python)
(require 'subr-x)
(defun out (fmt &rest args) (princ (concat (apply #'format fmt args) "\n")))
(defun fail (fmt &rest args) (message "FAIL: %s" (apply #'format fmt args)) (kill-emacs 1))
(defun wait-until (secs pred)
  (let ((deadline (+ (float-time) secs)))
    (while (and (not (funcall pred)) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    (funcall pred)))
(unless (require 'eglot nil t)
  (fail "eglot is not installed (Emacs %s; Emacs 28 needs Debian's elpa-eglot): %s"
        emacs-version "run scripts/install-test-system-deps.sh as root"))
(defun lsp-pos (pos)                       ; buffer position -> "line:col", both 0-based
  (save-excursion (goto-char pos) (format "%d:%d" (1- (line-number-at-pos)) (current-column))))
(defun ours ()                             ; eglot's flymake texts read "ormlens [CODE]: message"
  (seq-filter (lambda (d) (string-prefix-p "ormlens [" (flymake-diagnostic-text d)))
              (flymake-diagnostics)))

(let ((file (expand-file-name (or (car command-line-args-left) (fail "usage: ... -l drive_eglot.el FILE"))))
      (ormlens (or (getenv "ORMLENS_CMD") (fail "set ORMLENS_CMD"))))
  (setq command-line-args-left nil
        eglot-sync-connect t
        python-indent-guess-indent-offset nil
        flymake-no-changes-timeout 0.05)
  ;; The snippet documented in README.md ("## Editors"), with the command made absolute.
  (add-to-list 'eglot-server-programs `(python-mode . (,ormlens "server")))
  (find-file file)
  (unless (derived-mode-p 'python-mode) (python-mode))
  (condition-case err (call-interactively #'eglot)          ; = M-x eglot
    (error (fail "eglot start: %S" err)))
  (let ((server (or (eglot-current-server) (fail "eglot is not managing %s" file))))
    (out "SERVER %s" (string-join (process-command (jsonrpc--process server)) " "))
    ;; The seed has three findings, published together; wait for all of them (a partial set is
    ;; printed anyway and the test says what is missing). Stop early if the server dies.
    (wait-until 10 (lambda () (or (>= (length (ours)) 3)
                                  (not (process-live-p (jsonrpc--process server))))))
    (unless (process-live-p (jsonrpc--process server))
      (fail "ormlens server exited: %s" (process-exit-status (jsonrpc--process server))))
    (unless (ours)
      (fail "no diagnostics from ormlens within 10 s; flymake has: %S"
            (mapcar #'flymake-diagnostic-text (flymake-diagnostics))))
    (dolist (d (sort (ours) (lambda (a b) (< (flymake-diagnostic-beg a) (flymake-diagnostic-beg b)))))
      (let ((text (flymake-diagnostic-text d)))
        (out "DIAG %s-%s %s %s %s" (lsp-pos (flymake-diagnostic-beg d)) (lsp-pos (flymake-diagnostic-end d))
             (flymake-diagnostic-type d)
             (if (string-match "\\`ormlens \\[\\([^]]+\\)\\]" text) (match-string 1 text) "?")
             (replace-regexp-in-string "\n" " " text))))
    (eglot-shutdown server))
  (out "OK")
  (kill-emacs 0))
