namespace Flamewright.Pprof.Model;

/// <summary>A binary mapped into the profiled process (profile.proto <c>Mapping</c>).</summary>
public readonly record struct Mapping(
    ulong Id,
    ulong MemoryStart,
    ulong MemoryLimit,
    ulong FileOffset,
    string FileName,
    string BuildId,
    bool HasFunctions,
    bool HasFileNames,
    bool HasLineNumbers,
    bool HasInlineFrames);
