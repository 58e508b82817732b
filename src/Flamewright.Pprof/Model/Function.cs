namespace Flamewright.Pprof.Model;

/// <summary>A function (profile.proto <c>Function</c>); names come from the profile and are untrusted text.</summary>
public readonly record struct Function(ulong Id, string Name, string SystemName, string FileName, long StartLine);
