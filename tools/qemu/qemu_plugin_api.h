/*
 * The subset of QEMU's TCG plugin API, version 1 (QEMU 6.x-7.2), that
 * insn_count.c uses. Debian's qemu-user 7.2 accepts -plugin but ships no
 * qemu-plugin.h, so the few declarations are written out here from the
 * documented API (docs/devel/tcg-plugins.rst of QEMU): the functions are
 * resolved at load time against the symbols the qemu-user binary exports.
 */
#ifndef IRNET_QEMU_PLUGIN_API_H
#define IRNET_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
#define QEMU_PLUGIN_API_VERSION 1

typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
  const char *target_name; /* e.g. "aarch64", "arm" */
  struct {
    int min;
    int cur;
  } version;
  bool system_emulation;
  union {
    struct {
      int smp_vcpus;
      int max_vcpus;
    } system;
  };
} qemu_info_t;

struct qemu_plugin_tb;   /* a translation block, valid during the translation callback */
struct qemu_plugin_insn; /* one guest instruction of such a block */

enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

/* Callback flags: whether the callback reads guest registers (it does not). */
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
/* vcpu_index: under qemu-user, one vCPU per guest thread, numbered from 0 (the
 * main thread) in creation order; an index is reused only after its thread and
 * every higher-numbered one have exited. */
typedef void (*qemu_plugin_vcpu_simple_cb_t)(qemu_plugin_id_t id, unsigned int vcpu_index);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
/* Called on the new vCPU's (guest thread's) own host thread when it starts. */
void qemu_plugin_register_vcpu_init_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_simple_cb_t cb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
/* Name of the ELF symbol containing the instruction (the main binary's symbol
 * table, load bias applied), or NULL. The string lives as long as QEMU. */
const char *qemu_plugin_insn_symbol(const struct qemu_plugin_insn *insn);

/* Where QEMU holds the instruction's bytes in its own (host) address space:
 * under qemu-user, inside the host mapping of the guest file it came from. */
void *qemu_plugin_insn_haddr(const struct qemu_plugin_insn *insn);

/* At every execution of `insn`, *(uint64_t *)ptr += imm, emitted inline in the
 * translated code (no helper call). */
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);

/* At every execution of `insn`, cb(vcpu_index, userdata) on the executing vCPU's
 * thread, before the instruction (a helper call from the translated code). */
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);

void qemu_plugin_outs(const char *string);
bool qemu_plugin_bool_parse(const char *name, const char *val, bool *ret);

#endif /* IRNET_QEMU_PLUGIN_API_H */
