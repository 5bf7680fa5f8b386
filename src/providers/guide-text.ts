/** How every set-up guide writes the secret: never the secret itself (src/inbound-guide.ts). */
export const SECRET_PLACEHOLDER = '<your secret>';
