import Foundation
import TensorCore
import ZIPFoundation

/// Reading state dicts from PyTorch's zip checkpoint format (`torch.save` since PyTorch 1.6).
///
/// The archive holds `<name>/data.pkl` (the pickled object), `<name>/data/<key>` (one record per
/// storage, raw little-endian elements), `<name>/byteorder` and `<name>/version`; `<name>` varies.
/// The pickle is decoded by a restricted interpreter that knows state dicts and nothing else: it
/// never imports or calls Python code, and any global outside a small whitelist
/// (`collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`, `torch._utils._rebuild_parameter`,
/// `torch.Size`, the typed storage classes) is refused with ``CheckpointError/forbiddenGlobal(path:module:name:)``.
public enum PyTorchCheckpoint {
    /// The dict keys searched, in this order, for a nested state dict (`{"model_state": sd, …}` as
    /// written by the facebookresearch and TIME trainers, `{"model": sd}` and `{"state_dict": sd}`
    /// as written by timm and others, `{"teacher": sd, …}` as written by DINO and SVT).
    public static let stateDictKeys = ["model_state", "model", "state_dict", "module", "teacher"]

    /// Reads the state dict of a `.pth`/`.pyth` zip archive.
    public static func read(contentsOf url: URL) throws(CheckpointError) -> ImportedCheckpoint {
        if let head = try? FileHandle(forReadingFrom: url).read(upToCount: 2), head.first == 0x80 {
            throw .legacyPyTorchFormat(path: url.path)
        }
        try ZipDirectoryCheck.validate(url, path: url.path)
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            guard FileManager.default.isReadableFile(atPath: url.path) else {
                throw .unreadable(path: url.path, reason: "no readable file at this path")
            }
            throw .corruptArchive(path: url.path, reason: "\(error)")
        }
        return try read(archive, path: url.path)
    }

    /// Reads the state dict of an in-memory `.pth`/`.pyth` archive; `path` labels errors.
    ///
    /// The bytes go through a temporary file: ZIPFoundation's in-memory archives trap on a
    /// corrupt offset that points past the end of the buffer, while its file-backed reader
    /// reports the short read as an error.
    public static func parse(_ data: Data, path: String) throws(CheckpointError) -> ImportedCheckpoint {
        if data.first == 0x80 { throw .legacyPyTorchFormat(path: path) }
        // The directory is checked first, so damaged input fails without touching the disk.
        try ZipDirectoryCheck.validate(data, path: path)
        let temporary = FileManager.default.temporaryDirectory
            .appendingPathComponent("videossl-checkpoint-\(UUID().uuidString).zip")
        do {
            try data.write(to: temporary)
        } catch {
            throw .unreadable(path: path, reason: "cannot stage the bytes in a temporary file (\(error.localizedDescription))")
        }
        defer { try? FileManager.default.removeItem(at: temporary) }
        let archive: Archive
        do {
            archive = try Archive(url: temporary, accessMode: .read)
        } catch {
            throw .corruptArchive(path: path, reason: "\(error)")
        }
        return try read(archive, path: path)
    }

    private static func read(_ archive: Archive, path: String) throws(CheckpointError) -> ImportedCheckpoint {
        let records = ArchiveRecords(archive: archive, path: path)
        let prefix = try records.prefix()
        if let order = try records.optionalRecord(prefix + "byteorder"),
            String(decoding: order, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) != "little"
        {
            throw .unsupportedArchive(path: path, reason: "byte order is not little-endian")
        }
        let pickle = try records.record(prefix + "data.pkl")
        let root = try PickleMachine.load([UInt8](pickle), path: path)
        let located = try StateDictLocator.locate(root, path: path)
        var checkpoint = ImportedCheckpoint(
            path: path, format: .pyTorchZip, tensors: [], stateDictKey: located.key, entries: located.entries)
        var storages: [String: Data] = [:]
        for (name, reference) in located.tensors {
            let key = reference.storage.key
            if storages[key] == nil {
                let bytes = try records.record(prefix + "data/" + key)
                let needed = reference.storage.elementCount.multipliedReportingOverflow(by: reference.storage.dtype.byteCount)
                guard !needed.overflow, bytes.count >= needed.partialValue else {
                    throw .invalidTensor(path: path, key: name, reason:
                        "storage record data/\(key) has \(bytes.count) bytes, fewer than "
                        + "\(reference.storage.elementCount) \(reference.storage.dtype.storageClass) elements")
                }
                storages[key] = bytes
            }
            let indices = try StorageDecoding.elementIndices(of: reference, key: name, path: path)
            let dtype = reference.storage.dtype
            storages[key]!.withUnsafeBytes { raw in
                if dtype.isFloatingPoint {
                    let values = StorageDecoding.floats(raw, dtype: dtype, at: indices)
                    checkpoint.tensors.append((name, Tensor(shape: reference.shape, scalars: values)))
                } else {
                    let values = StorageDecoding.integers(raw, dtype: dtype, at: indices)
                    checkpoint.integerTensors.append(IntegerTensor(name: name, shape: reference.shape, values: values))
                }
            }
        }
        return checkpoint
    }
}

/// Named records of a torch.save archive, with ZIPFoundation's errors turned into ours.
private struct ArchiveRecords {
    let archive: Archive
    let path: String

    /// The archive's top folder (`"plain/"` for `plain.pth`), found from its `data.pkl`.
    func prefix() throws(CheckpointError) -> String {
        for entry in archive where entry.type == .file {
            let components = entry.path.split(separator: "/", omittingEmptySubsequences: false)
            if components.count == 2, components[1] == "data.pkl" { return components[0] + "/" }
        }
        throw .missingRecord(path: path, record: "<archive>/data.pkl")
    }

    func record(_ name: String) throws(CheckpointError) -> Data {
        guard let data = try optionalRecord(name) else { throw .missingRecord(path: path, record: name) }
        return data
    }

    func optionalRecord(_ name: String) throws(CheckpointError) -> Data? {
        guard let entry = archive[name] else { return nil }
        var data = Data()
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry, skipCRC32: false) { chunk in data.append(chunk) }
        } catch {
            throw .corruptArchive(path: path, reason: "record \(name): \(error)")
        }
        // Records are stored uncompressed, so the CRC is the only thing that catches flipped
        // bytes in them; ZIPFoundation computes it but leaves the comparison to the caller.
        guard checksum == entry.checksum, data.count == Int(exactly: entry.uncompressedSize) else {
            throw .corruptArchive(path: path, reason: "record \(name) fails its size or CRC-32 check")
        }
        return data
    }
}
