namespace Flamewright.Pprof.Model;

/// <summary>One frame of a location: <see cref="FunctionIndex"/> indexes <see cref="Profile.Functions"/>.</summary>
public readonly record struct Line(int FunctionIndex, long LineNumber, long Column);
