import { defineWebExtConfig } from 'wxt';

// `wxt` dev mode would try to open a browser; there is no display on CI or dev machines here.
export default defineWebExtConfig({ disabled: true });
