namespace Flamewright.Pprof.Model;

/// <summary>A sample type or period type: what a value measures and in which unit, e.g. <c>cpu/nanoseconds</c>.</summary>
public readonly record struct ValueType(string Type, string Unit)
{
    public override string ToString() => $"{Type}/{Unit}";
}
