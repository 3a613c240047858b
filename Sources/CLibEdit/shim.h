#ifndef ROLO_CLIBEDIT_SHIM_H
#define ROLO_CLIBEDIT_SHIM_H

#include <stdio.h>
#include <histedit.h>

// Swift cannot call C variadic functions, nor assign C globals of function-pointer type
// in Swift 6 mode; these small wrappers make libedit's el_set/el_get usable.

typedef unsigned char (*rolo_el_func_t)(EditLine *, int);
typedef const char *(*rolo_prompt_func_t)(EditLine *);

/// el_init on the standard streams (Swift 6 cannot touch the C globals stdin/stdout/stderr).
static inline EditLine *rolo_el_init(const char *program) {
    return el_init(program, stdin, stdout, stderr);
}
static inline void rolo_print(const char *text) {
    fputs(text, stdout);
    fflush(stdout);
}

static inline int rolo_el_set_prompt(EditLine *el, rolo_prompt_func_t f) {
    return el_set(el, EL_PROMPT, f);
}
static inline int rolo_el_set_editor(EditLine *el, const char *mode) {
    return el_set(el, EL_EDITOR, mode);
}
static inline int rolo_el_set_hist(EditLine *el, History *h) {
    return el_set(el, EL_HIST, history, h);
}
static inline int rolo_el_set_signal(EditLine *el, int on) {
    return el_set(el, EL_SIGNAL, on);
}
static inline int rolo_el_add_fn(EditLine *el, const char *name, const char *help, rolo_el_func_t f) {
    return el_set(el, EL_ADDFN, name, help, f);
}
static inline int rolo_el_bind(EditLine *el, const char *key, const char *fn) {
    return el_set(el, EL_BIND, key, fn, NULL);
}
static inline int rolo_el_set_clientdata(EditLine *el, void *data) {
    return el_set(el, EL_CLIENTDATA, data);
}
static inline void *rolo_el_get_clientdata(EditLine *el) {
    void *data = NULL;
    el_get(el, EL_CLIENTDATA, &data);
    return data;
}

/// Edit-mode terminal settings: with -isig, Ctrl-C arrives as a key the shell binds (cancel the
/// line) instead of a signal; outside editing the terminal keeps its normal settings.
static inline int rolo_el_edit_mode_no_isig(EditLine *el) {
    return el_set(el, EL_SETTY, "-d", "-isig", NULL);
}
static inline int rolo_el_set_prompt_esc(EditLine *el, rolo_prompt_func_t f, char marker) {
    return el_set(el, EL_PROMPT_ESC, f, marker);
}

/// EL_PREP_TERM: 0 puts the terminal back in its normal (cooked) mode, 1 in editing mode —
/// around suspending the process with Ctrl-Z.
static inline int rolo_el_prep_term(EditLine *el, int on) {
    return el_set(el, EL_PREP_TERM, on);
}
/// EL_REFRESH: draws the prompt and line again (after moving the cursor from a key function).
static inline int rolo_el_refresh(EditLine *el) {
    return el_set(el, EL_REFRESH);
}
/// The terminal's width in columns as libedit sees it (termcap "co"), or 80.
static inline int rolo_el_columns(EditLine *el) {
    int columns = 0;
    if (el_get(el, EL_GETTC, "co", &columns, NULL) != 0 || columns <= 0) {
        return 80;
    }
    return columns;
}

static inline int rolo_history_setsize(History *h, HistEvent *ev, int size) {
    return history(h, ev, H_SETSIZE, size);
}
static inline int rolo_history_setunique(History *h, HistEvent *ev, int on) {
    return history(h, ev, H_SETUNIQUE, on);
}
static inline int rolo_history_enter(History *h, HistEvent *ev, const char *line) {
    return history(h, ev, H_ENTER, line);
}
static inline int rolo_history_load(History *h, HistEvent *ev, const char *file) {
    return history(h, ev, H_LOAD, file);
}
static inline int rolo_history_save(History *h, HistEvent *ev, const char *file) {
    return history(h, ev, H_SAVE, file);
}
/// H_FIRST: the newest entry; H_NEXT: the one before it. -1 when there is none.
static inline int rolo_history_first(History *h, HistEvent *ev) {
    return history(h, ev, H_FIRST);
}
static inline int rolo_history_next(History *h, HistEvent *ev) {
    return history(h, ev, H_NEXT);
}

#endif
