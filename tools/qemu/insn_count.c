/*
 * insn_count: exact guest instruction counts for qemu-user.
 *
 *   qemu-aarch64 -L /usr/aarch64-linux-gnu \
 *     -plugin build/qemu-plugin/libinsn_count.so,out=counts.txt,symbols=on,threads=on  ./prog args
 *
 * Every guest instruction, when translated, gets a counter update attached to
 * it, so each *executed* instruction is counted exactly once, also when a
 * translation block is left early. Counts do not depend on timing, so two runs
 * of a deterministic program give identical numbers.
 *
 * With symbols=on the instruction is also counted into a per-symbol counter
 * (the ELF symbol that contains it, as QEMU resolves it from the main binary's
 * symbol table; "[other]" for the dynamic loader, libc without symbols, ...),
 * so one run gives per-function counts (e.g. one bgemm tile function).
 *
 * With libraries=on (needs symbols=on, threads=off) the instructions outside the
 * binary's symbols are also counted per host address, and the report names each
 * such address by the file QEMU mapped there and the offset in that file (from
 * /proc/self/maps at exit): a shared library's code (libc's memcpy, libgcc's
 * division helpers), which the caller resolves with the library's own symbols.
 *
 * Two ways of counting:
 *   threads=off (default): an inline 64-bit add in the translated code, the
 *     fastest; the adds are not atomic, so this counts single-threaded guests
 *     only, and the report is an error if the guest starts a second thread.
 *   threads=on: a callback per executed instruction adds 1 to the executing
 *     vCPU's own counters. Under qemu-user every guest thread is a vCPU of its
 *     own (index 0 = the main thread, then in creation order), and a vCPU's
 *     counters are written only by its thread: exact per-thread counts of a
 *     multi-threaded guest (how many instructions each thread ran; the counts
 *     of threads that spin-wait depend on timing, the rest do not).
 *
 * Output (to `out=FILE`, else to stderr), written at exit:
 *   total <N>
 *   thread <vcpu> <N>                (threads=on only, one line per thread)
 *   symbol <count> <name>            (symbols=on only, largest first)
 *   thread_symbol <vcpu> <count> <name>   (both on)
 *   location <count> <file offset, hex> <path>   (libraries=on: "[other]" split)
 *   error <message>                  (the counts above are not valid)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_API_VERSION;

typedef struct SymbolCounter {
  const char *name; /* owned by QEMU (or a literal) */
  uint64_t count;   /* threads=off: the inline adds' target */
  uint32_t id;      /* threads=on: index into each thread's counter table */
  struct SymbolCounter *next; /* hash chain */
} SymbolCounter;

enum {
  kBuckets = 4096,
  kMaxThreads = 64,        /* guest threads counted separately */
  kMaxSymbols = 1 << 16,   /* symbols (ids) per thread table */
};

static bool per_symbol;
static bool per_thread;
static bool per_location;
static char *out_path;
static SymbolCounter *buckets[kBuckets];
static SymbolCounter *by_id[kMaxSymbols];
static uint32_t symbol_count;
/* threads=off: everything; threads=on and symbols=off: the one pseudo-symbol all
 * instructions count into. */
static SymbolCounter whole_program = {"[all]", 0, 0, NULL};

/* libraries=on: one counter per host address of an instruction without a symbol. */
typedef struct LocationCounter {
  uintptr_t host_address;
  uint64_t count;
  struct LocationCounter *next; /* hash chain */
} LocationCounter;
static LocationCounter *location_buckets[kBuckets];

/* threads=on: thread_counts[vcpu][symbol id], allocated when the vCPU starts and
 * written only from that vCPU's thread. */
static uint64_t *thread_counts[kMaxThreads];
static unsigned vcpus_started;   /* atomic */
static unsigned vcpu_overflow;   /* atomic: a vCPU index >= kMaxThreads started */
static bool symbol_overflow;     /* more than kMaxSymbols symbols (translation is serialized) */

static uint64_t hash_name(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; ++s) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static void *checked_calloc(size_t n, size_t size) {
  void *p = calloc(n, size);
  if (p == NULL) {
    qemu_plugin_outs("insn_count: out of memory\n");
    abort();
  }
  return p;
}

/* The counter of a symbol name; created on first sight, never freed (translated
 * code points at it until QEMU exits). Called only from the translation
 * callback, which qemu-user runs under its translation lock. */
static SymbolCounter *counter_for(const char *name) {
  if (name == NULL || name[0] == '\0') name = "[other]";
  SymbolCounter **slot = &buckets[hash_name(name) % kBuckets];
  for (SymbolCounter *c = *slot; c != NULL; c = c->next)
    if (strcmp(c->name, name) == 0) return c;
  if (symbol_count == kMaxSymbols) {
    symbol_overflow = true;
    return &whole_program;
  }
  SymbolCounter *c = checked_calloc(1, sizeof *c);
  c->name = name;
  c->id = symbol_count;
  by_id[symbol_count++] = c;
  c->next = *slot;
  *slot = c;
  return c;
}

/* The counter of a host address; like counter_for, created under the translation lock. */
static LocationCounter *location_for(uintptr_t host_address) {
  LocationCounter **slot = &location_buckets[(host_address >> 1) % kBuckets];
  for (LocationCounter *c = *slot; c != NULL; c = c->next)
    if (c->host_address == host_address) return c;
  LocationCounter *c = checked_calloc(1, sizeof *c);
  c->host_address = host_address;
  c->next = *slot;
  *slot = c;
  return c;
}

static void on_vcpu_init(qemu_plugin_id_t id, unsigned int vcpu) {
  (void)id;
  __atomic_fetch_add(&vcpus_started, 1, __ATOMIC_RELAXED);
  if (!per_thread) return;
  if (vcpu >= kMaxThreads) {
    __atomic_store_n(&vcpu_overflow, 1, __ATOMIC_RELAXED);
    return;
  }
  /* An index is reused only after its previous thread exited: counts add up. */
  if (thread_counts[vcpu] == NULL) thread_counts[vcpu] = checked_calloc(kMaxSymbols, sizeof(uint64_t));
}

static void on_exec(unsigned int vcpu, void *userdata) {
  if (vcpu >= kMaxThreads) return; /* reported through vcpu_overflow */
  thread_counts[vcpu][((const SymbolCounter *)userdata)->id] += 1;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  const size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; ++i) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    const char *symbol = per_symbol ? qemu_plugin_insn_symbol(insn) : NULL;
    SymbolCounter *c = per_symbol ? counter_for(symbol) : &whole_program;
    if (per_location && (symbol == NULL || symbol[0] == '\0'))
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                 &location_for((uintptr_t)qemu_plugin_insn_haddr(insn))->count, 1);
    if (per_thread) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_exec, QEMU_PLUGIN_CB_NO_REGS, c);
    } else {
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &whole_program.count, 1);
      if (c != &whole_program)
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &c->count, 1);
    }
  }
}

/* threads=on: every counter is the sum of the threads' tables. */
static void gather_thread_counts(void) {
  whole_program.count = 0;
  for (uint32_t s = 0; s < symbol_count; ++s) by_id[s]->count = 0;
  for (unsigned t = 0; t < kMaxThreads; ++t) {
    if (thread_counts[t] == NULL) continue;
    if (!per_symbol) {
      whole_program.count += thread_counts[t][0];
      continue;
    }
    for (uint32_t s = 0; s < symbol_count; ++s) {
      by_id[s]->count += thread_counts[t][s];
      whole_program.count += thread_counts[t][s];
    }
  }
}

static int by_count_desc(const void *a, const void *b) {
  const SymbolCounter *x = *(const SymbolCounter *const *)a;
  const SymbolCounter *y = *(const SymbolCounter *const *)b;
  if (x->count != y->count) return x->count < y->count ? 1 : -1;
  return strcmp(x->name, y->name);
}

/* libraries=on: each counted host address as the file mapped there and the
 * offset in it (lines of /proc/self/maps: start-end perms offset dev inode path). */
static void write_locations(FILE *f) {
  FILE *maps = fopen("/proc/self/maps", "r");
  if (maps == NULL) {
    fprintf(f, "error libraries=on: cannot read /proc/self/maps\n");
    return;
  }
  char line[4096];
  while (fgets(line, sizeof line, maps) != NULL) {
    uintptr_t start, end;
    unsigned long long offset;
    int path_at = 0;
    if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %*s %llx %*s %*s %n", &start, &end, &offset, &path_at) != 3 ||
        path_at == 0 || line[path_at] != '/')
      continue;
    line[strcspn(line, "\n")] = '\0';
    for (unsigned b = 0; b < kBuckets; ++b)
      for (LocationCounter *c = location_buckets[b]; c != NULL; c = c->next)
        if (c->count != 0 && c->host_address >= start && c->host_address < end) {
          fprintf(f, "location %" PRIu64 " %llx %s\n", c->count, offset + (c->host_address - start),
                  line + path_at);
          c->count = 0; /* reported */
        }
  }
  fclose(maps);
  uint64_t unmapped = 0;
  for (unsigned b = 0; b < kBuckets; ++b)
    for (LocationCounter *c = location_buckets[b]; c != NULL; c = c->next) unmapped += c->count;
  if (unmapped != 0) fprintf(f, "location %" PRIu64 " 0 [unmapped]\n", unmapped);
}

static void write_report(FILE *f) {
  const unsigned started = __atomic_load_n(&vcpus_started, __ATOMIC_RELAXED);
  if (per_thread) gather_thread_counts();
  fprintf(f, "total %" PRIu64 "\n", whole_program.count);
  if (!per_thread && started > 1)
    fprintf(f, "error the guest ran %u threads: count it with threads=on\n", started);
  if (__atomic_load_n(&vcpu_overflow, __ATOMIC_RELAXED))
    fprintf(f, "error the guest ran more than %d threads at once\n", kMaxThreads);
  if (symbol_overflow) fprintf(f, "error the guest has more than %d symbols\n", kMaxSymbols);
  if (per_thread) {
    for (unsigned t = 0; t < kMaxThreads; ++t) {
      if (thread_counts[t] == NULL) continue;
      uint64_t sum = 0;
      for (uint32_t s = 0; s < (per_symbol ? symbol_count : 1); ++s) sum += thread_counts[t][s];
      fprintf(f, "thread %u %" PRIu64 "\n", t, sum);
    }
  }
  if (!per_symbol) return;
  SymbolCounter **all = checked_calloc(symbol_count ? symbol_count : 1, sizeof *all);
  memcpy(all, by_id, symbol_count * sizeof *all);
  qsort(all, symbol_count, sizeof *all, by_count_desc);
  for (uint32_t i = 0; i < symbol_count; ++i)
    if (all[i]->count != 0) fprintf(f, "symbol %" PRIu64 " %s\n", all[i]->count, all[i]->name);
  if (per_thread) {
    for (uint32_t i = 0; i < symbol_count; ++i)
      for (unsigned t = 0; t < kMaxThreads; ++t)
        if (thread_counts[t] != NULL && thread_counts[t][all[i]->id] != 0)
          fprintf(f, "thread_symbol %u %" PRIu64 " %s\n", t, thread_counts[t][all[i]->id], all[i]->name);
  }
  free(all);
  if (per_location) write_locations(f);
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

/* `name=value` with a boolean value; false if arg is not that option. */
static bool bool_option(const char *arg, const char *name, bool *value, bool *ok) {
  const size_t len = strlen(name);
  if (strncmp(arg, name, len) != 0 || arg[len] != '=') return false;
  *ok = qemu_plugin_bool_parse(name, arg + len + 1, value);
  if (!*ok) fprintf(stderr, "insn_count: %s is not a boolean (on/off)\n", arg);
  return true;
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  for (int i = 0; i < argc; ++i) {
    const char *arg = argv[i];
    bool ok = true;
    if (strncmp(arg, "out=", 4) == 0) {
      out_path = strdup(arg + 4);
    } else if (bool_option(arg, "symbols", &per_symbol, &ok) || bool_option(arg, "threads", &per_thread, &ok) ||
               bool_option(arg, "libraries", &per_location, &ok)) {
      if (!ok) return -1;
    } else {
      fprintf(stderr, "insn_count: unknown argument '%s' (expected out=FILE, symbols=on|off, "
                      "threads=on|off, libraries=on|off)\n", arg);
      return -1;
    }
  }
  if (per_location && (!per_symbol || per_thread)) {
    fprintf(stderr, "insn_count: libraries=on needs symbols=on and threads=off\n");
    return -1;
  }
  qemu_plugin_register_vcpu_init_cb(id, on_vcpu_init);
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_report, NULL);
  return 0;
}
