import { createHash } from 'node:crypto';
import { readdir, readFile, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import S3Object from 's3rver/lib/models/object';
import { AtomicFile, writeFileAtomic } from '../../aws-protocol/state-file';
import { decodeFolderName } from './key-names';
import { footer, storedHeaders, writeAll } from './object-file';
import { isValidBucketName } from './request-target';
import type { StoreLayout } from './store-layout';

const FORMER_SUFFIX = '._S3rver_object';

/**
 * Moves objects of s3rver's own layout (`<key path>._S3rver_object` with `._S3rver_metadata.json`) into this
 * one, and its bucket configurations (`._S3rver_cors.xml`, `._S3rver_website.xml`) to the configuration folder.
 */
export async function migrateFormerLayout(layout: StoreLayout): Promise<number> {
  let moved = 0;
  const migrate = async (bucket: string, dir: string, keyPrefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (decodeFolderName(entry.name) !== undefined) continue; // this layout
        if (entry.name === '._S3rver_uploads') await rm(file, { recursive: true, force: true });
        else {
          await migrate(bucket, file, `${keyPrefix}${entry.name}/`);
          await rmdir(file).catch(() => undefined);
        }
        continue;
      }
      const config = /^\._S3rver_(cors|website)\.xml$/.exec(entry.name);
      if (config && keyPrefix === '') {
        await writeFileAtomic(layout.configFile(bucket, config[1]!), await readFile(file), { createDir: true });
        await rm(file);
        continue;
      }
      if (!entry.name.endsWith(FORMER_SUFFIX)) continue;
      const base = file.slice(0, -'object'.length);
      const key = keyPrefix + entry.name.slice(0, -FORMER_SUFFIX.length);
      const metadata = await readFile(`${base}metadata.json`, 'utf8').then((t) => JSON.parse(t) as Record<string, string>, () => ({}));
      const tagging = await readFile(`${base}tagging.xml`, 'utf8').catch(() => undefined);
      const target = layout.objectPath(bucket, key);
      if (target) {
        const body = await readFile(file);
        const { mtimeMs } = await stat(file);
        const temp = await AtomicFile.create(target, { tempDir: layout.tempDir });
        try {
          await writeAll(temp.handle, body);
          const etag = createHash('md5').update(body).digest('hex');
          await writeAll(temp.handle, footer({ key, headers: storedHeaders(new S3Object(bucket, key, null, metadata).metadata), etag, size: body.length, lastModified: Math.round(mtimeMs), ...(tagging ? { tagging } : {}) }));
          await layout.commit(bucket, target, temp);
        } catch (error) {
          await temp.discard();
          throw error;
        }
        moved++;
      }
      await Promise.all([file, `${file}.md5`, `${base}metadata.json`, `${base}tagging.xml`].map((f) => rm(f, { force: true })));
    }
  };
  for (const bucket of (await readdir(layout.root)).filter(isValidBucketName)) {
    if ((await stat(path.join(layout.root, bucket))).isDirectory()) await migrate(bucket, path.join(layout.root, bucket), '');
  }
  return moved;
}
