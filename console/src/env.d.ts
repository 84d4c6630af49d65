/** Stylesheets are bundled by esbuild into the site's CSS file. */
declare module '*.css';
