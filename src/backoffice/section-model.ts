/**
 * The query model version of a back-office section's image (store-schema.ts), read from the image itself: a section
 * written before version 5 holds an image of version 1, and its header's digest covers that version's tables.
 */

import { decodeSection } from './section.ts'
import { Store, type ModelVersion } from './store.ts'

/** The image's version and through which LSN it holds no true-up fills; throws when the section does not decode. */
export function sectionModelVersion(bytes: Uint8Array): ModelVersion {
  const image = Store.openImage(decodeSection(bytes).image)
  try {
    return image.modelVersion
  } finally {
    image.close()
  }
}
