namespace Crema.Layers;

/// <summary>Marks layers whose tops are the net's inputs, filled by the user (Input, MemoryData): they make up <c>Net.InputBlobs</c>.</summary>
public interface IInputLayer;
