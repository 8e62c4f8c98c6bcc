/* "provider issue-token": the first administrator's token, made without
 * the API (which needs a token). See issue_token.c. */
#ifndef PROV_ISSUE_TOKEN_H
#define PROV_ISSUE_TOKEN_H

/* argv[0] is "issue-token". Returns the process exit code: 0 done (the id
 * printed), 1 database or file error, 2 bad command line or role. */
int prov_issue_token_main(int argc, char **argv);

#endif
