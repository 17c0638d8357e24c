"""Pages of the Streamlit app (run ``streamlit run streamlit_app.py``)."""
