/*
 * cmd: the glasslog subcommands. Each takes argc/argv starting at its own
 * name (argv[0] = "keygen", ...) and returns a CLI_* exit code.
 */
#ifndef GL_CMD_H
#define GL_CMD_H

int cmd_keygen_main(int argc, char **argv);
int cmd_note_main(int argc, char **argv);
int cmd_evidence_main(int argc, char **argv);
int cmd_append_main(int argc, char **argv);
int cmd_policy_main(int argc, char **argv);
int cmd_verify_main(int argc, char **argv);
int cmd_lookup_main(int argc, char **argv);
int cmd_monitor_main(int argc, char **argv);
int cmd_get_main(int argc, char **argv);
int cmd_mirrordir_main(int argc, char **argv);

#endif
