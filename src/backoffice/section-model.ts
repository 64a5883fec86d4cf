/**
 * The query model image of a back-office section, opened as the version that wrote it (store-schema.ts): a section
 * before version 5 holds an image of version 1, and its header's digest covers that version's tables — whatever
 * `model_version` row and true-up fills the file it was copied from held (an older build copies a file a newer build
 * wrote first as it is). An image of a version this build does not know is not usable.
 */

import { BackOfficeSectionError, decodeSection, SECTION_VERSION_MODEL_VERSIONED, type BackOfficeSection } from './section.ts'
import { Store, type ModelVersion } from './store.ts'
import { isKnownModelVersion, QUERY_MODEL_VERSION } from './store-schema.ts'

/** Whether the section's image is of query model version 1 by its format, whatever the image says. */
export function sectionImageIsVersion1(section: BackOfficeSection): boolean {
  return section.header.version < SECTION_VERSION_MODEL_VERSIONED
}

/** An in-memory copy of the section's image; throws BackOfficeSectionError STATE_INVALID when of an unknown version. */
export function openSectionImage(section: BackOfficeSection): Store {
  const image = Store.openImage(section.image, { asVersion1: sectionImageIsVersion1(section) })
  const { version } = image.modelVersion
  if (isKnownModelVersion(version)) return image
  image.close()
  throw new BackOfficeSectionError('STATE_INVALID', `QUERY_MODEL_VERSION: the section's query model is version ${version}, this build knows 1 to ${QUERY_MODEL_VERSION}`)
}

/** The image's version and through which LSN it holds no true-up fills; throws when the section is not usable. */
export function sectionModelVersion(bytes: Uint8Array): ModelVersion {
  return decodedSectionModelVersion(decodeSection(bytes))
}

/** sectionModelVersion of a section already decoded (one decode serves every question asked of it). */
export function decodedSectionModelVersion(section: BackOfficeSection): ModelVersion {
  const image = openSectionImage(section)
  try {
    return image.modelVersion
  } finally {
    image.close()
  }
}
