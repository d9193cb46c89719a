/** Settings every test worker runs with (never used outside tests). */
export const TEST_SETTINGS = {
  API_KEYS: "sk_test_reader_one,sk_test_reader_two",
  WORKOS_WEBHOOK_SECRET: "whsec_test_current,whsec_test_previous",
  WEBHOOK_TOLERANCE_SECONDS: "180",
  LOG_LEVEL: "debug",
} as const;

export const READ_KEY = "sk_test_reader_one";
export const ADMIN_KEY = "sk_test_admin";
/** The key the WorkOS stand-in accepts (the cache's WORKOS_API_KEY in sync tests). */
export const STANDIN_KEY = "sk_test_standin";
export const WEBHOOK_SECRET = "whsec_test_current";
export const PREVIOUS_WEBHOOK_SECRET = "whsec_test_previous";
