/*
 * insn_count: exact guest instruction counts for qemu-user.
 *
 *   qemu-aarch64 -L /usr/aarch64-linux-gnu \
 *     -plugin build/qemu-plugin/libinsn_count.so,out=counts.txt,symbols=on  ./prog args
 *
 * Every guest instruction, when translated, gets an inline "counter += 1"
 * attached to it, so each *executed* instruction is counted exactly once, also
 * when a translation block is left early. Counts do not depend on timing, so
 * two runs of a deterministic program give identical numbers.
 *
 * With symbols=on the instruction is also counted into a per-symbol counter
 * (the ELF symbol that contains it, as QEMU resolves it from the main binary's
 * symbol table; "[other]" for the dynamic loader, libc without symbols, ...),
 * so one run gives per-function counts (e.g. one bgemm tile function).
 *
 * Output (to `out=FILE`, else to stderr), written at exit:
 *   total <N>
 *   symbol <count> <name>      (symbols=on only, largest first)
 *
 * Counters are plain (non-atomic) 64-bit adds: count single-threaded guests.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_API_VERSION;

typedef struct SymbolCounter {
  const char *name; /* owned by QEMU (or the literal "[other]") */
  uint64_t count;
  struct SymbolCounter *next; /* hash chain */
} SymbolCounter;

enum { kBuckets = 4096 };

static uint64_t total_count;
static bool per_symbol;
static char *out_path;
static SymbolCounter *buckets[kBuckets];
static size_t symbol_count;

static uint64_t hash_name(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; ++s) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The counter of a symbol name; created on first sight, never freed (inline
 * adds in translated code point at it until QEMU exits). */
static SymbolCounter *counter_for(const char *name) {
  if (name == NULL || name[0] == '\0') name = "[other]";
  SymbolCounter **slot = &buckets[hash_name(name) % kBuckets];
  for (SymbolCounter *c = *slot; c != NULL; c = c->next)
    if (strcmp(c->name, name) == 0) return c;
  SymbolCounter *c = calloc(1, sizeof *c);
  if (c == NULL) {
    qemu_plugin_outs("insn_count: out of memory\n");
    abort();
  }
  c->name = name;
  c->next = *slot;
  *slot = c;
  ++symbol_count;
  return c;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &total_count, 1);
    if (per_symbol) {
      SymbolCounter *c = counter_for(qemu_plugin_insn_symbol(insn));
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->count, 1);
    }
  }
}

static int by_count_desc(const void *a, const void *b) {
  const SymbolCounter *x = *(const SymbolCounter *const *)a;
  const SymbolCounter *y = *(const SymbolCounter *const *)b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return strcmp(x->name, y->name);
}

static void write_report(FILE *f) {
  fprintf(f, "total %" PRIu64 "\n", total_count);
  if (!per_symbol) return;
  SymbolCounter **all = malloc((symbol_count ? symbol_count : 1) * sizeof *all);
  if (all == NULL) return;
  size_t k = 0;
  for (size_t b = 0; b < kBuckets; ++b)
    for (SymbolCounter *c = buckets[b]; c != NULL; c = c->next) all[k++] = c;
  qsort(all, k, sizeof *all, by_count_desc);
  for (size_t i = 0; i < k; ++i)
    if (all[i]->count != 0) fprintf(f, "symbol %" PRIu64 " %s\n", all[i]->count, all[i]->name);
  free(all);
}

static void on_exit_report(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  if (out_path != NULL) {
    FILE *f = fopen(out_path, "w");
    if (f == NULL) {
      qemu_plugin_outs("insn_count: cannot open the out= file\n");
      return;
    }
    write_report(f);
    fclose(f);
    return;
  }
  write_report(stderr);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  for (int i = 0; i < argc; ++i) {
    const char *arg = argv[i];
    const char *eq = strchr(arg, '=');
    if (eq != NULL && strncmp(arg, "out", (size_t)(eq - arg)) == 0 && eq - arg == 3) {
      out_path = strdup(eq + 1);
    } else if (eq != NULL && eq - arg == 7 && strncmp(arg, "symbols", 7) == 0) {
      if (!qemu_plugin_bool_parse("symbols", eq + 1, &per_symbol)) {
        fprintf(stderr, "insn_count: symbols=%s is not a boolean (on/off)\n", eq + 1);
        return -1;
      }
    } else {
      fprintf(stderr, "insn_count: unknown argument '%s' (expected out=FILE, symbols=on|off)\n", arg);
      return -1;
    }
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_report, NULL);
  return 0;
}
