// Webpack configuration of the JupyterLab application used by flowlens' Lab browser test: the core
// application ("CORE_FEDERATION") built from JupyterLab's npm packages, the way JupyterLab's own
// `staging/webpack.config.js` and its `examples/federated` example build it (@jupyterlab/builder's
// base config, `Build.ensureAssets` for schemas and themes, module federation with the core packages
// shared so that prebuilt extensions load against them).
//
// Run by `test/lab-app/build.mjs` with the app folder (`lab3/` or `lab4/`, which holds the
// package.json and node_modules) as the working directory and FLOWLENS_LAB_OUT as the output folder.
'use strict';
const path = require('path');
const { createRequire } = require('module');

const appDir = process.cwd();
const appRequire = createRequire(path.join(appDir, 'package.json'));
const fs = appRequire('fs-extra');
const Handlebars = appRequire('handlebars');
const { Build } = appRequire('@jupyterlab/builder');
const webpack = appRequire('webpack');
const merge = appRequire('webpack-merge').merge;
const baseConfig = appRequire('@jupyterlab/builder/lib/webpack.config.base');
const { ModuleFederationPlugin } = webpack.container;

const here = __dirname;
const out = process.env.FLOWLENS_LAB_OUT;
if (!out) throw new Error('FLOWLENS_LAB_OUT (output folder) is not set');
const packageData = require(path.join(appDir, 'package.json'));
const jlab = packageData.jupyterlab;

/** package.json of an installed package (read from disk: some packages' `exports` hide it). */
function pkgJson(name) {
  return JSON.parse(fs.readFileSync(path.join(appDir, 'node_modules', name, 'package.json'), 'utf8'));
}

// Application extensions and mime extensions, from the packages' `jupyterlab` metadata.
const extensions = {};
const mimeExtensions = {};
for (const key of jlab.extensions) {
  const { extension, mimeExtension } = pkgJson(key).jupyterlab;
  if (extension !== undefined) extensions[key] = extension === true ? '' : extension;
  if (mimeExtension !== undefined) mimeExtensions[key] = mimeExtension === true ? '' : mimeExtension;
}

const buildDir = path.join(out, 'build');
const outputDir = path.join(out, 'static');
for (const d of [buildDir, outputDir, path.join(out, 'schemas'), path.join(out, 'themes')]) fs.emptyDirSync(d);

// Schemas into <out>/schemas, themes into <out>/themes, style imports into build/style.js.
const extensionAssetConfig = Build.ensureAssets({ packageNames: jlab.extensions, output: buildDir, schemaOutput: out, themeOutput: out });

const template = Handlebars.compile(fs.readFileSync(path.join(here, 'index.template.js'), 'utf8'));
fs.writeFileSync(path.join(buildDir, 'index.js'), template({ extensions, mimeExtensions }));
const entryPoint = path.join(buildDir, 'bootstrap.js');
fs.copySync(path.join(here, 'bootstrap.js'), entryPoint);

/**
 * Module-federation `shared` config: every core package (the app's dependencies, the singletons and
 * each extension's dependencies) at its installed version, so that a prebuilt extension declaring
 * e.g. `@jupyter-widgets/base` as not bundled gets the app's copy.
 */
function createShared() {
  const shared = {};
  const installed = (name) => {
    try {
      return pkgJson(name).version;
    } catch {
      return undefined;
    }
  };
  for (const pkg of [...Object.keys(packageData.dependencies), ...jlab.singletonPackages]) {
    const v = installed(pkg);
    if (v) shared[pkg] = { requiredVersion: `^${v}` };
  }
  for (const ext of jlab.extensions) {
    const { dependencies = {} } = pkgJson(ext);
    for (const [dep, requiredVersion] of Object.entries(dependencies)) {
      if (!shared[dep] && installed(dep)) shared[dep] = { requiredVersion };
    }
  }
  for (const [pkg, config] of Object.entries(jlab.sharedPackages ?? {})) {
    const c = { ...config };
    if ('bundled' in c) {
      c.import = c.bundled ? undefined : false;
      delete c.bundled;
      if (c.import === undefined) delete c.import;
    }
    shared[pkg] = { ...(shared[pkg] ?? {}), ...c };
  }
  for (const pkg of jlab.singletonPackages) if (shared[pkg]) shared[pkg].singleton = true;
  return shared;
}

module.exports = [
  merge(baseConfig, {
    mode: 'development',
    devtool: false,
    entry: [path.join(here, 'publicpath.js'), entryPoint],
    resolve: { modules: [path.join(appDir, 'node_modules'), 'node_modules'] },
    resolveLoader: { modules: [path.join(appDir, 'node_modules'), 'node_modules'] },
    output: {
      path: outputDir,
      library: { type: 'var', name: ['_JUPYTERLAB', 'CORE_OUTPUT'] },
      filename: 'bundle.js',
    },
    optimization: {
      splitChunks: {
        chunks: 'all',
        cacheGroups: { jlab_core: { test: /[\\/]node_modules[\\/]@(jupyterlab|lumino)[\\/]/, name: 'jlab_core' } },
      },
    },
    infrastructureLogging: { level: 'warn' },
    stats: 'errors-warnings',
    plugins: [
      new ModuleFederationPlugin({
        library: { type: 'var', name: ['_JUPYTERLAB', 'CORE_LIBRARY_FEDERATION'] },
        name: 'CORE_FEDERATION',
        shared: createShared(),
      }),
    ],
  }),
].concat(extensionAssetConfig);
